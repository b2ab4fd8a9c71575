// Tests of TokensCore against a real SQLite file: secrets shown once and stored as hashes,
// revocation at once, the bootstrap admin.
#include "service/core/tokens_core.h"

#include <memory>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/auth/token_secret.h"
#include "service/core/okr_core.h"
#include "service/storage/sqlite/sqlite_store.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/temp_dir.h"

namespace okr::core {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

class TokensCoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::SqliteOptions options;
    options.path = dir_.File("okr.db");
    options.sync = storage::SqliteOptions::Sync::kNormal;
    auto store = storage::SqliteStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    OkrCore core(*store_, clock_);
    Team team;
    team.id = "payments";
    team.display_name = "Payments";
    ASSERT_TRUE(core.CreateTeam(team, "").ok());
    tokens_ = std::make_unique<TokensCore>(*store_, clock_);
  }

  ApiToken Editor() {
    ApiToken t;
    t.id = "ada";
    t.display_name = "Ada";
    t.role = Role::kEditor;
    t.team_ids = {"payments"};
    return t;
  }

  testing::TempDir dir_;
  testing::FakeClock clock_{absl::FromUnixSeconds(1'790'000'000)};
  std::unique_ptr<storage::SqliteStore> store_;
  std::unique_ptr<TokensCore> tokens_;
};

TEST_F(TokensCoreTest, Create_ReturnsTheSecretOnce_AuthenticateFindsThePrincipal) {
  absl::StatusOr<CreatedApiToken> created = tokens_->CreateApiToken(Editor());
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_GE(created->secret.size(), 43u);
  EXPECT_THAT(created->token.secret_hash, IsEmpty());
  absl::StatusOr<Principal> who = tokens_->Authenticate(created->secret);
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(who->token_id, "ada");
  EXPECT_EQ(who->display_name, "Ada");
  EXPECT_EQ(who->role, Role::kEditor);
  EXPECT_THAT(who->team_ids, ::testing::ElementsAre("payments"));
  // Reads never carry the secret or its hash.
  absl::StatusOr<ApiToken> read = tokens_->GetApiToken("ada");
  ASSERT_TRUE(read.ok());
  EXPECT_THAT(read->secret_hash, IsEmpty());
  absl::StatusOr<ListResult<ApiToken>> list = tokens_->ListApiTokens({});
  ASSERT_TRUE(list.ok());
  EXPECT_THAT(list->items, SizeIs(1));
}

TEST_F(TokensCoreTest, TheStoreHoldsOnlyTheHash) {
  absl::StatusOr<CreatedApiToken> created = tokens_->CreateApiToken(Editor());
  ASSERT_TRUE(created.ok());
  std::string payloads;
  ASSERT_TRUE(store_
                  ->RunReadOnly([&](storage::OkrTransaction& tx) -> absl::Status {
                    for (const char* kind : {"api_token", "api_token_hash"}) {
                      auto docs = tx.ListDocuments(kind, {0, 100});
                      if (!docs.ok()) return docs.status();
                      for (const auto& d : docs->items) payloads += d.id + d.payload;
                    }
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_THAT(payloads, HasSubstr(auth::HashTokenSecret(created->secret)));
  EXPECT_EQ(payloads.find(created->secret), std::string::npos);
}

TEST_F(TokensCoreTest, Delete_RevokesAtOnce) {
  absl::StatusOr<CreatedApiToken> created = tokens_->CreateApiToken(Editor());
  ASSERT_TRUE(created.ok());
  ASSERT_TRUE(tokens_->DeleteApiToken("ada").ok());
  EXPECT_EQ(tokens_->Authenticate(created->secret).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(tokens_->GetApiToken("ada").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(tokens_->DeleteApiToken("ada").code(), absl::StatusCode::kNotFound);
}

TEST_F(TokensCoreTest, Create_RefusesUnknownTeamsAndTakenIds) {
  ApiToken t = Editor();
  t.team_ids = {"search"};
  absl::Status s = tokens_->CreateApiToken(t).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("api_token.teams"));
  ASSERT_TRUE(tokens_->CreateApiToken(Editor()).ok());
  EXPECT_EQ(tokens_->CreateApiToken(Editor()).status().code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(TokensCoreTest, Authenticate_RefusesUnknownAndEmptySecrets) {
  EXPECT_EQ(tokens_->Authenticate("okr_nothing").status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(tokens_->Authenticate("").status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(TokensCoreTest, BootstrapAdminSecret_IsAnAdminInMemoryOnly) {
  tokens_->SetBootstrapAdminSecret("0123456789abcdef-bootstrap");
  absl::StatusOr<Principal> who = tokens_->Authenticate("0123456789abcdef-bootstrap");
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(who->role, Role::kAdmin);
  EXPECT_EQ(who->Describe(), "bootstrap-admin");
  EXPECT_FALSE(*tokens_->HasApiTokens());
}

TEST_F(TokensCoreTest, CreateBootstrapTokenIfNone_OnlyOnAStoreWithoutTokens) {
  absl::StatusOr<bool> created = tokens_->CreateBootstrapTokenIfNone("first-secret-0123456789");
  ASSERT_TRUE(created.ok());
  EXPECT_TRUE(*created);
  EXPECT_EQ(tokens_->Authenticate("first-secret-0123456789")->role, Role::kAdmin);
  EXPECT_FALSE(*tokens_->CreateBootstrapTokenIfNone("second-secret-0123456789"));
  EXPECT_EQ(tokens_->Authenticate("second-secret-0123456789").status().code(),
            absl::StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace okr::core
