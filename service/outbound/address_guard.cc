#include "service/outbound/address_guard.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace okr::outbound {
namespace {

constexpr char kAllowHint[] =
    "outbound deliveries may not reach it (allow it with --outbound-allow-cidrs)";

uint32_t V4Bits(const IpAddress& a) {
  return (uint32_t{a.bytes[0]} << 24) | (uint32_t{a.bytes[1]} << 16) | (uint32_t{a.bytes[2]} << 8) |
         uint32_t{a.bytes[3]};
}

AddressClass ClassifyV4(uint32_t v) {
  auto in = [v](uint32_t base, int length) {
    return (v >> (32 - length)) == (base >> (32 - length));
  };
  if (v == 0xFFFFFFFFu) return AddressClass::kBroadcast;
  if (in(0x00000000u, 8)) return AddressClass::kUnspecified;  // 0.0.0.0/8, "this network"
  if (in(0x7F000000u, 8)) return AddressClass::kLoopback;
  if (in(0x0A000000u, 8) || in(0xAC100000u, 12) || in(0xC0A80000u, 16)) {
    return AddressClass::kPrivate;
  }
  if (in(0xA9FE0000u, 16)) return AddressClass::kLinkLocal;
  if (in(0x64400000u, 10)) return AddressClass::kCgnat;
  if (in(0xE0000000u, 4)) return AddressClass::kMulticast;
  return AddressClass::kPublic;
}

// Whether the first `prefix_length` bits of a and b agree.
bool SamePrefix(const std::array<uint8_t, 16>& a, const std::array<uint8_t, 16>& b,
                int prefix_length) {
  const int whole = prefix_length / 8;
  if (!std::equal(a.begin(), a.begin() + whole, b.begin())) return false;
  const int rest = prefix_length % 8;
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xFF << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

bool HasHostBits(const IpAddress& base, int prefix_length) {
  const int width = base.v6 ? 128 : 32;
  for (int bit = prefix_length; bit < width; ++bit) {
    if (base.bytes[bit / 8] & (0x80 >> (bit % 8))) return true;
  }
  return false;
}

IpAddress ClearHostBits(IpAddress base, int prefix_length) {
  const int width = base.v6 ? 128 : 32;
  for (int bit = prefix_length; bit < width; ++bit) {
    base.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
  }
  return base;
}

absl::StatusOr<Cidr> ParseCidr(absl::string_view entry) {
  const size_t slash = entry.find('/');
  const absl::string_view address_text = entry.substr(0, slash);
  std::optional<IpAddress> base = IpAddress::Parse(address_text);
  if (!base.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", entry, "\": ", address_text, " is not an IPv4 or IPv6 address"));
  }
  const int width = base->v6 ? 128 : 32;
  int prefix_length = width;
  if (slash != absl::string_view::npos) {
    const absl::string_view digits = entry.substr(slash + 1);
    if (digits.empty() || digits.size() > 3 ||
        !std::all_of(digits.begin(), digits.end(), absl::ascii_isdigit) ||
        !absl::SimpleAtoi(digits, &prefix_length) || prefix_length > width) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", entry, "\": the prefix length must be 0..", width));
    }
  }
  if (HasHostBits(*base, prefix_length)) {
    Cidr meant{ClearHostBits(*base, prefix_length), prefix_length};
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", entry, "\": has bits set beyond the prefix (did you mean ", meant.ToString(), "?)"));
  }
  // ::ffff:a.b.c.d/n (n >= 96) is the IPv4 block a.b.c.d/(n-96).
  if (base->v6 && prefix_length >= 96) {
    if (std::optional<IpAddress> v4 = base->EmbeddedV4();
        v4.has_value() && base->bytes[10] == 0xFF && base->bytes[11] == 0xFF) {
      return Cidr{*v4, prefix_length - 96};
    }
  }
  return Cidr{*base, prefix_length};
}

std::string Article(AddressClass c) { return c == AddressClass::kUnspecified ? "an" : "a"; }

// The host of an http(s) URL: "example.com", "127.0.0.1" or, for "[::1]", "::1" with
// `bracketed` set.
absl::StatusOr<std::string> UrlHost(absl::string_view url, bool* bracketed) {
  const size_t sep = url.find("://");
  const std::string scheme =
      absl::AsciiStrToLower(url.substr(0, sep == absl::string_view::npos ? 0 : sep));
  if (sep == absl::string_view::npos || (scheme != "http" && scheme != "https")) {
    return absl::InvalidArgumentError("only http:// and https:// URLs are allowed");
  }
  absl::string_view authority = url.substr(sep + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  for (char c : authority) {
    if (absl::ascii_iscntrl(static_cast<unsigned char>(c)) || c == ' ' || c == '\\') {
      return absl::InvalidArgumentError(
          "the URL's authority has a space, backslash or control character");
    }
  }
  if (size_t at = authority.rfind('@'); at != absl::string_view::npos) {
    authority = authority.substr(at + 1);  // user:password@
  }
  if (absl::StrContains(authority, '%')) {
    return absl::InvalidArgumentError(
        "the URL's host may not be percent-encoded or have a zone id");
  }
  absl::string_view host;
  absl::string_view after;
  *bracketed = absl::StartsWith(authority, "[");
  if (*bracketed) {
    const size_t close = authority.find(']');
    if (close == absl::string_view::npos) {
      return absl::InvalidArgumentError("the URL's IPv6 address has no closing ]");
    }
    host = authority.substr(1, close - 1);
    after = authority.substr(close + 1);
  } else {
    const size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    after = colon == absl::string_view::npos ? "" : authority.substr(colon);
  }
  if (!after.empty()) {
    const absl::string_view port = after.substr(1);
    int number = 0;
    if (after[0] != ':' || port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), absl::ascii_isdigit) ||
        (!port.empty() && (!absl::SimpleAtoi(port, &number) || number > 65535))) {
      return absl::InvalidArgumentError("the URL's port is not a number in 0..65535");
    }
  }
  if (host.empty()) return absl::InvalidArgumentError("the URL has no host");
  return absl::AsciiStrToLower(host);
}

}  // namespace

// ---- IpAddress ----

std::optional<IpAddress> IpAddress::Parse(absl::string_view text) {
  const std::string s(text);
  IpAddress a;
  if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) return a;
  a.v6 = true;
  if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) return a;
  return std::nullopt;
}

IpAddress IpAddress::V4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  IpAddress ip;
  ip.bytes[0] = a;
  ip.bytes[1] = b;
  ip.bytes[2] = c;
  ip.bytes[3] = d;
  return ip;
}

std::optional<IpAddress> IpAddress::FromSockaddr(const sockaddr* address, size_t length) {
  if (address == nullptr) return std::nullopt;
  IpAddress a;
  if (address->sa_family == AF_INET && length >= sizeof(sockaddr_in)) {
    sockaddr_in in;
    std::memcpy(&in, address, sizeof(in));
    std::memcpy(a.bytes.data(), &in.sin_addr, 4);
    return a;
  }
  if (address->sa_family == AF_INET6 && length >= sizeof(sockaddr_in6)) {
    sockaddr_in6 in6;
    std::memcpy(&in6, address, sizeof(in6));
    a.v6 = true;
    std::memcpy(a.bytes.data(), &in6.sin6_addr, 16);
    return a;
  }
  return std::nullopt;
}

std::optional<IpAddress> IpAddress::EmbeddedV4() const {
  if (!v6) return std::nullopt;
  static constexpr uint8_t kNat64[12] = {0x00, 0x64, 0xff, 0x9b};  // 64:ff9b::/96
  const bool zero80 =
      std::all_of(bytes.begin(), bytes.begin() + 10, [](uint8_t b) { return b == 0; });
  const bool mapped = zero80 && bytes[10] == 0xFF && bytes[11] == 0xFF;  // ::ffff:0:0/96
  const bool compatible = zero80 && bytes[10] == 0 && bytes[11] == 0;    // ::/96 (deprecated)
  const bool nat64 = std::equal(bytes.begin(), bytes.begin() + 12, kNat64);
  if (!mapped && !compatible && !nat64) return std::nullopt;
  return V4(bytes[12], bytes[13], bytes[14], bytes[15]);
}

std::string IpAddress::ToString() const {
  char buffer[INET6_ADDRSTRLEN] = {0};
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buffer, sizeof(buffer));
  return buffer;
}

// ---- Classification ----

AddressClass ClassifyAddress(const IpAddress& a) {
  if (!a.v6) return ClassifyV4(V4Bits(a));
  const bool zero120 =
      std::all_of(a.bytes.begin(), a.bytes.begin() + 15, [](uint8_t b) { return b == 0; });
  if (zero120 && a.bytes[15] == 0) return AddressClass::kUnspecified;  // ::
  if (zero120 && a.bytes[15] == 1) return AddressClass::kLoopback;     // ::1
  if (std::optional<IpAddress> v4 = a.EmbeddedV4(); v4.has_value()) {
    return ClassifyV4(V4Bits(*v4));
  }
  if (a.bytes[0] == 0xFF) return AddressClass::kMulticast;         // ff00::/8
  if ((a.bytes[0] & 0xFE) == 0xFC) return AddressClass::kPrivate;  // fc00::/7
  if (a.bytes[0] == 0xFE && (a.bytes[1] & 0xC0) == 0x80)
    return AddressClass::kLinkLocal;  // fe80::/10
  if (a.bytes[0] == 0xFE && (a.bytes[1] & 0xC0) == 0xC0)
    return AddressClass::kPrivate;  // fec0::/10
  return AddressClass::kPublic;
}

absl::string_view AddressClassName(AddressClass c) {
  switch (c) {
    case AddressClass::kPublic:
      return "public";
    case AddressClass::kLoopback:
      return "loopback";
    case AddressClass::kPrivate:
      return "private";
    case AddressClass::kLinkLocal:
      return "link-local";
    case AddressClass::kCgnat:
      return "CGNAT";
    case AddressClass::kUnspecified:
      return "unspecified";
    case AddressClass::kBroadcast:
      return "broadcast";
    case AddressClass::kMulticast:
      return "multicast";
  }
  return "unknown";
}

// ---- Cidr ----

bool Cidr::Contains(const IpAddress& address) const {
  if (address.v6 == base.v6) return SamePrefix(address.bytes, base.bytes, prefix_length);
  if (base.v6) return false;
  std::optional<IpAddress> v4 = address.EmbeddedV4();
  return v4.has_value() && SamePrefix(v4->bytes, base.bytes, prefix_length);
}

std::string Cidr::ToString() const { return absl::StrCat(base.ToString(), "/", prefix_length); }

absl::StatusOr<std::vector<Cidr>> ParseCidrList(absl::string_view text) {
  std::vector<Cidr> blocks;
  if (absl::StripAsciiWhitespace(text).empty()) return blocks;
  for (absl::string_view entry : absl::StrSplit(text, ',')) {
    entry = absl::StripAsciiWhitespace(entry);
    if (entry.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", text, "\" has an empty entry (a stray comma?)"));
    }
    absl::StatusOr<Cidr> block = ParseCidr(entry);
    if (!block.ok()) return block.status();
    blocks.push_back(*block);
  }
  return blocks;
}

// ---- AddressGuard ----

absl::StatusOr<std::vector<IpAddress>> AddressGuard::SystemResolve(const std::string& host) {
  addrinfo hints;
  std::memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &result);
  if (rc != 0) {
    return absl::NotFoundError(absl::StrCat(host, " does not resolve (", gai_strerror(rc), ")"));
  }
  std::vector<IpAddress> addresses;
  for (const addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
    std::optional<IpAddress> a = IpAddress::FromSockaddr(ai->ai_addr, ai->ai_addrlen);
    if (a.has_value() && std::find(addresses.begin(), addresses.end(), *a) == addresses.end()) {
      addresses.push_back(*a);
    }
  }
  freeaddrinfo(result);
  return addresses;
}

absl::StatusOr<AddressGuard> AddressGuard::Create(absl::string_view allow_cidrs,
                                                  Resolver resolver) {
  absl::StatusOr<std::vector<Cidr>> allowed = ParseCidrList(allow_cidrs);
  if (!allowed.ok()) return allowed.status();
  return AddressGuard(*std::move(allowed), std::move(resolver));
}

AddressGuard::AddressGuard() : AddressGuard({}, nullptr) {}

AddressGuard::AddressGuard(std::vector<Cidr> allowed, Resolver resolver)
    : allowed_(std::move(allowed)),
      resolver_(resolver != nullptr ? std::move(resolver) : Resolver(&SystemResolve)) {}

std::optional<AddressClass> AddressGuard::Refuses(const IpAddress& address) const {
  const AddressClass c = ClassifyAddress(address);
  if (c == AddressClass::kPublic) return std::nullopt;
  for (const Cidr& block : allowed_) {
    if (block.Contains(address)) return std::nullopt;
  }
  return c;
}

absl::Status AddressGuard::CheckAddress(const IpAddress& address) const {
  std::optional<AddressClass> refused = Refuses(address);
  if (!refused.has_value()) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(address.ToString(), " is ", Article(*refused),
                                                  " ", AddressClassName(*refused), " address; ",
                                                  kAllowHint));
}

absl::Status AddressGuard::CheckUrl(absl::string_view url) const {
  bool bracketed = false;
  absl::StatusOr<std::string> host = UrlHost(url, &bracketed);
  if (!host.ok()) return host.status();
  std::optional<IpAddress> literal = IpAddress::Parse(*host);
  if (bracketed && (!literal.has_value() || !literal->v6)) {
    return absl::InvalidArgumentError(
        absl::StrCat("[", *host, "] is not an IPv6 address (zone ids are not allowed)"));
  }
  if (literal.has_value() && !bracketed && literal->v6) {
    return absl::InvalidArgumentError("an IPv6 address in a URL must be in brackets");
  }
  if (literal.has_value()) {
    absl::Status checked = CheckAddress(*literal);
    if (!checked.ok()) return absl::InvalidArgumentError(checked.message());
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<IpAddress>> resolved = resolver_(*host);
  if (!resolved.ok()) return absl::InvalidArgumentError(resolved.status().message());
  if (resolved->empty()) {
    return absl::InvalidArgumentError(absl::StrCat(*host, " resolves to no address"));
  }
  for (const IpAddress& address : *resolved) {
    if (std::optional<AddressClass> refused = Refuses(address); refused.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat(*host, " resolves to ", address.ToString(), ", ", Article(*refused), " ",
                       AddressClassName(*refused), " address; ", kAllowHint));
    }
  }
  return absl::OkStatus();
}

}  // namespace okr::outbound
