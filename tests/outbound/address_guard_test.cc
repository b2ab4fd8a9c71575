// AddressGuard: the address classifier (every class, IPv4 and IPv6, IPv4-mapped forms),
// the CIDR allow list (parsing and its errors, matching), and the URL check with literal
// addresses, resolved names (an injected resolver) and the real `localhost`.
#include "service/outbound/address_guard.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace okr::outbound {
namespace {

using ::testing::HasSubstr;

IpAddress Ip(const std::string& text) {
  std::optional<IpAddress> a = IpAddress::Parse(text);
  EXPECT_TRUE(a.has_value()) << text;
  return a.value_or(IpAddress{});
}

struct ClassCase {
  std::string address;
  AddressClass expected;
};

class ClassifyTest : public ::testing::TestWithParam<ClassCase> {};

TEST_P(ClassifyTest, ClassifiesTheAddress) {
  EXPECT_EQ(ClassifyAddress(Ip(GetParam().address)), GetParam().expected)
      << GetParam().address << " classified as "
      << AddressClassName(ClassifyAddress(Ip(GetParam().address)));
}

INSTANTIATE_TEST_SUITE_P(
    EveryClass, ClassifyTest,
    ::testing::Values(
        // Loopback.
        ClassCase{"127.0.0.1", AddressClass::kLoopback},
        ClassCase{"127.255.255.254", AddressClass::kLoopback},
        ClassCase{"::1", AddressClass::kLoopback},
        ClassCase{"::ffff:127.0.0.1", AddressClass::kLoopback},
        // Private (RFC 1918, unique local).
        ClassCase{"10.0.0.0", AddressClass::kPrivate},
        ClassCase{"10.1.2.3", AddressClass::kPrivate},
        ClassCase{"10.255.255.255", AddressClass::kPrivate},
        ClassCase{"172.16.0.1", AddressClass::kPrivate},
        ClassCase{"172.31.255.255", AddressClass::kPrivate},
        ClassCase{"192.168.0.1", AddressClass::kPrivate},
        ClassCase{"192.168.255.255", AddressClass::kPrivate},
        ClassCase{"fc00::1", AddressClass::kPrivate},
        ClassCase{"fd12:3456:789a::1", AddressClass::kPrivate},
        ClassCase{"fec0::1", AddressClass::kPrivate},
        ClassCase{"::ffff:10.1.2.3", AddressClass::kPrivate},
        ClassCase{"::ffff:192.168.1.1", AddressClass::kPrivate},
        // Link-local (cloud metadata).
        ClassCase{"169.254.169.254", AddressClass::kLinkLocal},
        ClassCase{"169.254.0.0", AddressClass::kLinkLocal},
        ClassCase{"fe80::1", AddressClass::kLinkLocal},
        ClassCase{"febf:ffff::1", AddressClass::kLinkLocal},
        ClassCase{"::ffff:169.254.169.254", AddressClass::kLinkLocal},
        // CGNAT.
        ClassCase{"100.64.0.1", AddressClass::kCgnat},
        ClassCase{"100.127.255.255", AddressClass::kCgnat},
        ClassCase{"::ffff:100.64.0.1", AddressClass::kCgnat},
        // Unspecified and "this network".
        ClassCase{"0.0.0.0", AddressClass::kUnspecified},
        ClassCase{"0.1.2.3", AddressClass::kUnspecified},
        ClassCase{"::", AddressClass::kUnspecified},
        ClassCase{"::ffff:0.0.0.0", AddressClass::kUnspecified},
        // Broadcast.
        ClassCase{"255.255.255.255", AddressClass::kBroadcast},
        ClassCase{"::ffff:255.255.255.255", AddressClass::kBroadcast},
        // Multicast.
        ClassCase{"224.0.0.1", AddressClass::kMulticast},
        ClassCase{"239.255.255.255", AddressClass::kMulticast},
        ClassCase{"ff02::1", AddressClass::kMulticast},
        ClassCase{"ff0e::1", AddressClass::kMulticast},
        ClassCase{"::ffff:224.0.0.1", AddressClass::kMulticast},
        // Other embeddings of IPv4: compatible and NAT64.
        ClassCase{"::127.0.0.1", AddressClass::kLoopback},
        ClassCase{"64:ff9b::a9fe:a9fe", AddressClass::kLinkLocal},
        ClassCase{"64:ff9b::808:808", AddressClass::kPublic},
        // Public, including the edges of the blocks and the documentation ranges.
        ClassCase{"8.8.8.8", AddressClass::kPublic}, ClassCase{"1.1.1.1", AddressClass::kPublic},
        ClassCase{"9.255.255.255", AddressClass::kPublic},
        ClassCase{"11.0.0.0", AddressClass::kPublic},
        ClassCase{"172.15.255.255", AddressClass::kPublic},
        ClassCase{"172.32.0.0", AddressClass::kPublic},
        ClassCase{"192.167.255.255", AddressClass::kPublic},
        ClassCase{"192.169.0.0", AddressClass::kPublic},
        ClassCase{"169.253.255.255", AddressClass::kPublic},
        ClassCase{"100.63.255.255", AddressClass::kPublic},
        ClassCase{"100.128.0.0", AddressClass::kPublic},
        ClassCase{"126.255.255.255", AddressClass::kPublic},
        ClassCase{"128.0.0.0", AddressClass::kPublic},
        ClassCase{"223.255.255.255", AddressClass::kPublic},
        ClassCase{"1.0.0.0", AddressClass::kPublic}, ClassCase{"192.0.2.1", AddressClass::kPublic},
        ClassCase{"198.51.100.7", AddressClass::kPublic},
        ClassCase{"203.0.113.7", AddressClass::kPublic},
        ClassCase{"::ffff:203.0.113.7", AddressClass::kPublic},
        ClassCase{"2001:db8::1", AddressClass::kPublic},
        ClassCase{"2606:4700:4700::1111", AddressClass::kPublic},
        ClassCase{"::2", AddressClass::kUnspecified},  // ::0.0.0.2, IPv4-compatible 0/8
        ClassCase{"fbff::1", AddressClass::kPublic}, ClassCase{"fe00::1", AddressClass::kPublic}));

TEST(AddressClassNameTest, NamesEveryClass) {
  const std::map<AddressClass, std::string> names = {
      {AddressClass::kPublic, "public"},       {AddressClass::kLoopback, "loopback"},
      {AddressClass::kPrivate, "private"},     {AddressClass::kLinkLocal, "link-local"},
      {AddressClass::kCgnat, "CGNAT"},         {AddressClass::kUnspecified, "unspecified"},
      {AddressClass::kBroadcast, "broadcast"}, {AddressClass::kMulticast, "multicast"}};
  for (const auto& [c, name] : names) EXPECT_EQ(AddressClassName(c), name);
}

TEST(IpAddressTest, ParsesStrictlyAndPrintsAsInetNtop) {
  EXPECT_FALSE(IpAddress::Parse("127.1").has_value());  // inet_aton's shorthand is no literal
  EXPECT_FALSE(IpAddress::Parse("2130706433").has_value());
  EXPECT_FALSE(IpAddress::Parse("[::1]").has_value());
  EXPECT_FALSE(IpAddress::Parse("fe80::1%eth0").has_value());
  EXPECT_FALSE(IpAddress::Parse("").has_value());
  EXPECT_EQ(Ip("::ffff:127.0.0.1").ToString(), "::ffff:127.0.0.1");
  EXPECT_EQ(Ip("FE80:0:0::1").ToString(), "fe80::1");
  EXPECT_EQ(Ip("10.1.2.3").ToString(), "10.1.2.3");
}

TEST(IpAddressTest, FromSockaddr_ReadsV4AndV6_AndRefusesOtherFamilies) {
  sockaddr_in in;
  std::memset(&in, 0, sizeof(in));
  in.sin_family = AF_INET;
  inet_pton(AF_INET, "169.254.169.254", &in.sin_addr);
  std::optional<IpAddress> v4 =
      IpAddress::FromSockaddr(reinterpret_cast<const sockaddr*>(&in), sizeof(in));
  ASSERT_TRUE(v4.has_value());
  EXPECT_EQ(v4->ToString(), "169.254.169.254");
  EXPECT_FALSE(IpAddress::FromSockaddr(reinterpret_cast<const sockaddr*>(&in), 4).has_value());

  sockaddr_in6 in6;
  std::memset(&in6, 0, sizeof(in6));
  in6.sin6_family = AF_INET6;
  inet_pton(AF_INET6, "::ffff:127.0.0.1", &in6.sin6_addr);
  std::optional<IpAddress> v6 =
      IpAddress::FromSockaddr(reinterpret_cast<const sockaddr*>(&in6), sizeof(in6));
  ASSERT_TRUE(v6.has_value());
  EXPECT_TRUE(v6->v6);
  EXPECT_EQ(ClassifyAddress(*v6), AddressClass::kLoopback);

  sockaddr other;
  std::memset(&other, 0, sizeof(other));
  other.sa_family = AF_UNIX;
  EXPECT_FALSE(IpAddress::FromSockaddr(&other, sizeof(other)).has_value());
}

// ---- The allow list ----

struct CidrErrorCase {
  std::string text;
  std::string message;
};

class CidrErrorTest : public ::testing::TestWithParam<CidrErrorCase> {};

TEST_P(CidrErrorTest, IsInvalidArgumentQuotingTheEntry) {
  absl::StatusOr<std::vector<Cidr>> parsed = ParseCidrList(GetParam().text);
  ASSERT_FALSE(parsed.ok()) << GetParam().text;
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(parsed.status().message()), HasSubstr(GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    Errors, CidrErrorTest,
    ::testing::Values(
        CidrErrorCase{"10.0.0.0/33", "\"10.0.0.0/33\": the prefix length must be 0..32"},
        CidrErrorCase{"::/129", "\"::/129\": the prefix length must be 0..128"},
        CidrErrorCase{"10.0.0.0/", "the prefix length must be 0..32"},
        CidrErrorCase{"10.0.0.0/-1", "the prefix length must be 0..32"},
        CidrErrorCase{"10.0.0.0/8x", "the prefix length must be 0..32"},
        CidrErrorCase{"10.0.0.0/+8", "the prefix length must be 0..32"},
        CidrErrorCase{"10.0.0/8", "\"10.0.0/8\": 10.0.0 is not an IPv4 or IPv6 address"},
        CidrErrorCase{"localhost", "localhost is not an IPv4 or IPv6 address"},
        CidrErrorCase{"[::1]/128", "is not an IPv4 or IPv6 address"},
        CidrErrorCase{"10.1.2.3/8", "did you mean 10.0.0.0/8?"},
        CidrErrorCase{"fd00::1/8", "did you mean fd00::/8?"},
        CidrErrorCase{"10.0.0.0/8,,192.168.0.0/16", "has an empty entry"},
        CidrErrorCase{"10.0.0.0/8,", "has an empty entry"}));

TEST(CidrListTest, ParsesBlocksAndBareAddresses_IgnoringWhitespace) {
  absl::StatusOr<std::vector<Cidr>> parsed =
      ParseCidrList(" 127.0.0.0/8 ,fd00::/8,192.168.1.7, ::1 ,0.0.0.0/0");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  std::vector<std::string> printed;
  for (const Cidr& c : *parsed) printed.push_back(c.ToString());
  EXPECT_THAT(printed, ::testing::ElementsAre("127.0.0.0/8", "fd00::/8", "192.168.1.7/32",
                                              "::1/128", "0.0.0.0/0"));
  for (const char* empty : {"", "  "}) {
    absl::StatusOr<std::vector<Cidr>> none = ParseCidrList(empty);
    ASSERT_TRUE(none.ok());
    EXPECT_TRUE(none->empty());
  }
  // A mapped block is its IPv4 block.
  absl::StatusOr<std::vector<Cidr>> mapped = ParseCidrList("::ffff:10.0.0.0/104");
  ASSERT_TRUE(mapped.ok()) << mapped.status();
  EXPECT_EQ((*mapped)[0].ToString(), "10.0.0.0/8");
}

struct ContainsCase {
  std::string cidr;
  std::string address;
  bool contains;
};

class CidrContainsTest : public ::testing::TestWithParam<ContainsCase> {};

TEST_P(CidrContainsTest, MatchesPrefixBits) {
  absl::StatusOr<std::vector<Cidr>> parsed = ParseCidrList(GetParam().cidr);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ((*parsed)[0].Contains(Ip(GetParam().address)), GetParam().contains)
      << GetParam().cidr << " " << GetParam().address;
}

INSTANTIATE_TEST_SUITE_P(
    Blocks, CidrContainsTest,
    ::testing::Values(
        ContainsCase{"127.0.0.0/8", "127.0.0.1", true},
        ContainsCase{"127.0.0.0/8", "127.255.255.255", true},
        ContainsCase{"127.0.0.0/8", "128.0.0.0", false},
        ContainsCase{"127.0.0.0/8", "::ffff:127.0.0.1", true},  // mapped form
        ContainsCase{"127.0.0.0/8", "::1", false},
        ContainsCase{"10.20.0.0/14", "10.23.255.255", true},
        ContainsCase{"10.20.0.0/14", "10.24.0.0", false},
        ContainsCase{"10.1.2.3", "10.1.2.3", true}, ContainsCase{"10.1.2.3", "10.1.2.4", false},
        ContainsCase{"0.0.0.0/0", "169.254.169.254", true},
        ContainsCase{"fd00::/8", "fd12::1", true}, ContainsCase{"fd00::/8", "fc00::1", false},
        ContainsCase{"fd00::/8", "10.0.0.1", false}, ContainsCase{"fe80::/10", "febf::1", true},
        ContainsCase{"fe80::/10", "fec0::1", false}, ContainsCase{"::1", "::1", true}));

TEST(AddressGuardTest, RefusesInsideAddresses_UnlessAllowed) {
  AddressGuard none;
  EXPECT_EQ(none.Refuses(Ip("127.0.0.1")), AddressClass::kLoopback);
  EXPECT_EQ(none.Refuses(Ip("8.8.8.8")), std::nullopt);
  absl::Status refused = none.CheckAddress(Ip("127.0.0.1"));
  EXPECT_EQ(refused.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(refused.message(),
            "127.0.0.1 is a loopback address; outbound deliveries may not reach it (allow it "
            "with --outbound-allow-cidrs)");
  EXPECT_THAT(std::string(none.CheckAddress(Ip("0.0.0.0")).message()),
              HasSubstr("0.0.0.0 is an unspecified address"));
  EXPECT_TRUE(none.CheckAddress(Ip("203.0.113.7")).ok());

  absl::StatusOr<AddressGuard> some = AddressGuard::Create("127.0.0.0/8, fd00::/8");
  ASSERT_TRUE(some.ok()) << some.status();
  EXPECT_EQ(some->Refuses(Ip("127.0.0.1")), std::nullopt);
  EXPECT_EQ(some->Refuses(Ip("::ffff:127.0.0.1")), std::nullopt);
  EXPECT_EQ(some->Refuses(Ip("::1")), AddressClass::kLoopback);  // not in the v4 block
  EXPECT_EQ(some->Refuses(Ip("fd00::5")), std::nullopt);
  EXPECT_EQ(some->Refuses(Ip("10.0.0.1")), AddressClass::kPrivate);
  EXPECT_FALSE(AddressGuard::Create("127.0.0.0/80").ok());
}

// ---- URLs ----

// A resolver answering from a table; any other name does not resolve.
AddressGuard::Resolver TableResolver(std::map<std::string, std::vector<std::string>> table) {
  return [table](const std::string& host) -> absl::StatusOr<std::vector<IpAddress>> {
    auto it = table.find(host);
    if (it == table.end()) return absl::NotFoundError(host + " does not resolve (test)");
    std::vector<IpAddress> out;
    for (const std::string& a : it->second) out.push_back(*IpAddress::Parse(a));
    return out;
  };
}

struct UrlCase {
  std::string url;
  bool ok;
  std::string message;  // fragment, when refused
};

class CheckUrlTest : public ::testing::TestWithParam<UrlCase> {};

TEST_P(CheckUrlTest, AcceptsOrRefusesWithTheReason) {
  absl::StatusOr<AddressGuard> guard =
      AddressGuard::Create("", TableResolver({{"hooks.example.com", {"203.0.113.7", "2001:db8::7"}},
                                              {"mixed.example.com", {"203.0.113.8", "10.0.0.8"}},
                                              {"metadata.example.com", {"169.254.169.254"}},
                                              {"empty.example.com", {}}}));
  ASSERT_TRUE(guard.ok());
  absl::Status checked = guard->CheckUrl(GetParam().url);
  if (GetParam().ok) {
    EXPECT_TRUE(checked.ok()) << GetParam().url << ": " << checked;
    return;
  }
  ASSERT_FALSE(checked.ok()) << GetParam().url;
  EXPECT_EQ(checked.code(), absl::StatusCode::kInvalidArgument) << checked;
  EXPECT_THAT(std::string(checked.message()), HasSubstr(GetParam().message)) << GetParam().url;
}

INSTANTIATE_TEST_SUITE_P(
    Urls, CheckUrlTest,
    ::testing::Values(
        UrlCase{"https://hooks.example.com/okr", true, ""},
        UrlCase{"HTTP://Hooks.Example.COM:8443/okr?x=1#f", true, ""},
        UrlCase{"http://203.0.113.7/", true, ""}, UrlCase{"http://[2001:db8::1]:8080/", true, ""},
        UrlCase{"http://user:p%40ss@hooks.example.com/", true, ""},
        UrlCase{"http://127.0.0.1:8080/", false,
                "127.0.0.1 is a loopback address; outbound deliveries may not reach it (allow "
                "it with --outbound-allow-cidrs)"},
        UrlCase{"http://[::1]:8080/", false, "::1 is a loopback address"},
        UrlCase{"http://[::ffff:127.0.0.1]/", false, "::ffff:127.0.0.1 is a loopback address"},
        UrlCase{"http://10.1.2.3/", false, "10.1.2.3 is a private address"},
        UrlCase{"http://[fd00::1]/", false, "fd00::1 is a private address"},
        UrlCase{"http://169.254.169.254/latest/meta-data/iam", false,
                "169.254.169.254 is a link-local address"},
        UrlCase{"http://[fe80::1]/", false, "fe80::1 is a link-local address"},
        UrlCase{"http://100.64.0.1/", false, "100.64.0.1 is a CGNAT address"},
        UrlCase{"http://0.0.0.0/", false, "0.0.0.0 is an unspecified address"},
        UrlCase{"http://[::]/", false, ":: is an unspecified address"},
        UrlCase{"http://255.255.255.255/", false, "255.255.255.255 is a broadcast address"},
        UrlCase{"http://224.0.0.1/", false, "224.0.0.1 is a multicast address"},
        UrlCase{"http://[ff02::1]/", false, "ff02::1 is a multicast address"},
        UrlCase{"http://hooks.example.com@127.0.0.1/", false, "127.0.0.1 is a loopback"},
        UrlCase{"http://metadata.example.com/", false,
                "metadata.example.com resolves to 169.254.169.254, a link-local address"},
        UrlCase{"http://mixed.example.com/", false,
                "mixed.example.com resolves to 10.0.0.8, a private address"},
        UrlCase{"http://nx.example.com/", false, "nx.example.com does not resolve"},
        UrlCase{"http://empty.example.com/", false, "empty.example.com resolves to no address"},
        UrlCase{"ftp://hooks.example.com/", false, "only http:// and https://"},
        UrlCase{"hooks.example.com/okr", false, "only http:// and https://"},
        UrlCase{"http:///path", false, "has no host"}, UrlCase{"http://:80/", false, "has no host"},
        UrlCase{"http://[::1/", false, "no closing ]"},
        UrlCase{"http://[fe80::1%25eth0]/", false, "percent-encoded or have a zone id"},
        UrlCase{"http://%31%32%37.0.0.1/", false, "percent-encoded"},
        UrlCase{"http://[203.0.113.7]/", false, "is not an IPv6 address"},
        UrlCase{"http://hooks.example.com:99999/", false, "port"},
        UrlCase{"http://hooks.example.com:8x/", false, "port"},
        UrlCase{"http://127.0.0.1\\@hooks.example.com/", false, "backslash"}));

TEST(CheckUrlTest, AllowedBlocks_LetInsideTargetsThrough) {
  absl::StatusOr<AddressGuard> guard = AddressGuard::Create(
      "127.0.0.0/8,10.20.0.0/16", TableResolver({{"internal.example", {"10.20.3.4"}}}));
  ASSERT_TRUE(guard.ok());
  EXPECT_TRUE(guard->CheckUrl("http://127.0.0.1:9/hook").ok());
  EXPECT_TRUE(guard->CheckUrl("http://internal.example/hook").ok());
  EXPECT_THAT(std::string(guard->CheckUrl("http://10.21.0.1/").message()),
              HasSubstr("private address"));
  EXPECT_THAT(std::string(guard->CheckUrl("http://[::1]/").message()), HasSubstr("loopback"));
}

// Only names getaddrinfo answers without DNS traffic (/etc/hosts, numeric forms).
TEST(CheckUrlTest, Localhost_ThroughTheSystemResolver_IsLoopback) {
  AddressGuard guard;
  absl::Status checked = guard.CheckUrl("http://localhost:8080/hook");
  EXPECT_EQ(checked.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(checked.message()), HasSubstr("localhost resolves to "));
  EXPECT_THAT(std::string(checked.message()), HasSubstr("a loopback address"));
  // inet_aton shorthand reaches the resolver, which reads it as 127.0.0.1.
  EXPECT_THAT(std::string(guard.CheckUrl("http://127.1/").message()), HasSubstr("loopback"));
  EXPECT_THAT(std::string(guard.CheckUrl("http://2130706433/").message()), HasSubstr("loopback"));

  absl::StatusOr<AddressGuard> allowed = AddressGuard::Create("127.0.0.0/8,::1");
  ASSERT_TRUE(allowed.ok());
  EXPECT_TRUE(allowed->CheckUrl("http://localhost:8080/hook").ok());
}

}  // namespace
}  // namespace okr::outbound
