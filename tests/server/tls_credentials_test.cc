// LoadTlsFiles: which files it accepts, and that every refusal names its flag and path.
// Certificates are made in-process with OpenSSL (self-signed P-256), written to a temp dir.
#include "service/server/tls_credentials.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace okr::server {
namespace {

using ::testing::HasSubstr;

struct Pem {
  std::string cert;
  std::string key;
};

std::string BioString(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);  // NOLINT(runtime/int): OpenSSL's type
  return std::string(data, n);
}

// A self-signed certificate for CN=<cn> and its private key, as PEM.
Pem MakeSelfSigned(const char* cn) {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn),
                             -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_sign(cert, key, EVP_sha256());
  Pem pem;
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(b, cert);
  pem.cert = BioString(b);
  BIO_free(b);
  b = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr);
  pem.key = BioString(b);
  BIO_free(b);
  X509_free(cert);
  EVP_PKEY_free(key);
  return pem;
}

class TlsCredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("okr-tls-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    server_ = MakeSelfSigned("localhost");
    other_ = MakeSelfSigned("someone-else");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& content) {
    std::string path = (dir_ / name).string();
    std::ofstream(path) << content;
    return path;
  }
  ServerConfig Config(const std::string& cert, const std::string& key, const std::string& ca = "") {
    ServerConfig config;
    config.tls_cert_file = cert;
    config.tls_key_file = key;
    config.tls_client_ca_file = ca;
    return config;
  }

  std::filesystem::path dir_;
  Pem server_;
  Pem other_;
};

TEST_F(TlsCredentialsTest, NoCertificate_TlsIsOff) {
  auto tls = LoadTlsFiles(ServerConfig{});
  ASSERT_TRUE(tls.ok()) << tls.status();
  EXPECT_FALSE(tls->has_value());
  EXPECT_NE(GrpcServerCredentials(*tls), nullptr);
}

TEST_F(TlsCredentialsTest, CertificateAndKey_LoadsThem) {
  const std::string cert = Write("server.crt", server_.cert);
  const std::string key = Write("server.key", server_.key);
  auto tls = LoadTlsFiles(Config(cert, key));
  ASSERT_TRUE(tls.ok()) << tls.status();
  ASSERT_TRUE(tls->has_value());
  EXPECT_EQ((*tls)->cert_file, cert);
  EXPECT_EQ((*tls)->cert_chain_pem, server_.cert);
  EXPECT_EQ((*tls)->private_key_pem, server_.key);
  EXPECT_TRUE((*tls)->client_ca_pem.empty());
  EXPECT_NE(GrpcServerCredentials(*tls), nullptr);
}

TEST_F(TlsCredentialsTest, ChainAndClientCa_LoadsThem) {
  // A chain file: the leaf first, then more certificates; a CA bundle of two.
  const std::string cert = Write("chain.crt", server_.cert + other_.cert);
  const std::string key = Write("server.key", server_.key);
  const std::string ca = Write("ca.crt", other_.cert + "\n" + server_.cert);
  auto tls = LoadTlsFiles(Config(cert, key, ca));
  ASSERT_TRUE(tls.ok()) << tls.status();
  ASSERT_TRUE(tls->has_value());
  EXPECT_EQ((*tls)->client_ca_pem, other_.cert + "\n" + server_.cert);
  EXPECT_NE(GrpcServerCredentials(*tls), nullptr);
}

TEST_F(TlsCredentialsTest, BadFiles_AreRefusedNamingTheFlagAndPath) {
  const std::string cert = Write("server.crt", server_.cert);
  const std::string key = Write("server.key", server_.key);
  const std::string other_key = Write("other.key", other_.key);
  const std::string garbage = Write("garbage.pem", "not a PEM file\n");
  const std::string truncated =
      Write("truncated.crt", server_.cert + server_.cert.substr(0, server_.cert.size() / 2));
  const std::string missing = (dir_ / "missing.pem").string();
  struct Case {
    ServerConfig config;
    std::string want;
  } cases[] = {
      {Config(missing, key), "--tls-cert-file: " + missing + ": cannot read: No such file"},
      {Config(garbage, key), "--tls-cert-file: " + garbage + ": no PEM certificate"},
      {Config(key, key), "--tls-cert-file: " + key + ": no PEM certificate"},
      {Config(truncated, key), "--tls-cert-file: " + truncated + ": certificate number 2"},
      {Config(cert, missing), "--tls-key-file: " + missing + ": cannot read"},
      {Config(cert, garbage), "--tls-key-file: " + garbage + ": no unencrypted PEM private key"},
      {Config(cert, cert), "--tls-key-file: " + cert + ": no unencrypted PEM private key"},
      {Config(cert, other_key), "--tls-key-file: " + other_key + ": the key does not belong"},
      {Config(cert, key, missing), "--tls-client-ca-file: " + missing + ": cannot read"},
      {Config(cert, key, garbage), "--tls-client-ca-file: " + garbage + ": no PEM certificate"},
  };
  for (const Case& c : cases) {
    auto tls = LoadTlsFiles(c.config);
    EXPECT_EQ(tls.status().code(), absl::StatusCode::kInvalidArgument) << c.want;
    EXPECT_THAT(tls.status().message(), HasSubstr(c.want));
  }
}

TEST_F(TlsCredentialsTest, EncryptedKey_IsRefusedWithoutPrompting) {
  const std::string cert = Write("server.crt", server_.cert);
  EVP_PKEY* pkey = nullptr;
  {
    BIO* in = BIO_new_mem_buf(server_.key.data(), static_cast<int>(server_.key.size()));
    pkey = PEM_read_bio_PrivateKey(in, nullptr, nullptr, nullptr);
    BIO_free(in);
  }
  ASSERT_NE(pkey, nullptr);
  BIO* out = BIO_new(BIO_s_mem());
  char pass[] = "secret";
  PEM_write_bio_PKCS8PrivateKey(out, pkey, EVP_aes_256_cbc(), pass, sizeof pass - 1, nullptr,
                                nullptr);
  const std::string key = Write("encrypted.key", BioString(out));
  BIO_free(out);
  EVP_PKEY_free(pkey);
  auto tls = LoadTlsFiles(Config(cert, key));
  EXPECT_EQ(tls.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(tls.status().message(), HasSubstr("--tls-key-file: " + key));
}

}  // namespace
}  // namespace okr::server
