// AddressGuard: keeps outbound calls whose target a user chooses (webhook subscription
// target URLs) from reaching inside the network the service runs in -- loopback, private,
// link-local (cloud metadata at 169.254.169.254), CGNAT, unspecified, broadcast and
// multicast addresses -- unless the operator allows a block (--outbound-allow-cidrs).
//
// It is applied twice: when a target URL is accepted (CheckUrl: a literal address, or every
// address its host name resolves to) and at every connection, on the address actually
// connected to (CurlHttpClientOptions::address_guard checks each socket before it is
// opened), so a name that later re-resolves inside (DNS rebinding) is refused too.
//
// Usage:
//   OKR_ASSIGN_OR_RETURN(AddressGuard guard, AddressGuard::Create("10.20.0.0/16,fd00::/8"));
//   OKR_RETURN_IF_ERROR(guard.CheckUrl("https://hooks.example.com/okr"));  // at create time
//   curl_options.address_guard = std::make_shared<const AddressGuard>(guard);  // connect time
//
// Contract:
//  - ClassifyAddress is a pure function of the address. IPv4-mapped (::ffff:a.b.c.d),
//    IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) IPv6 addresses are classified
//    (and matched against the allow list) as the IPv4 address they carry. The documentation
//    ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32) are public.
//  - ParseCidrList / Create: INVALID_ARGUMENT quoting the bad entry (not an address, prefix
//    out of range, host bits set, empty entry). An empty or all-blank list allows nothing.
//  - Refuses / CheckAddress: an address is refused iff it is not public and no allowed block
//    contains it. CheckAddress says why: PERMISSION_DENIED "127.0.0.1 is a loopback address;
//    outbound deliveries may not reach it (allow it with --outbound-allow-cidrs)".
//  - CheckUrl: OK for an http:// or https:// URL whose host is a public (or allowed) literal
//    address or a name all of whose addresses are; INVALID_ARGUMENT otherwise: another
//    scheme, no host, a malformed authority, a name that does not resolve, or any resolved
//    address refused (the message names the host, the address and its class). It blocks on
//    DNS (the injected resolver; getaddrinfo by default).
//  - Immutable after Create: every method is thread-safe. Abseil and POSIX only.
#ifndef OKR_CONNECTORS_HTTP_ADDRESS_GUARD_H_
#define OKR_CONNECTORS_HTTP_ADDRESS_GUARD_H_

#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace okr::outbound {

// An IPv4 or IPv6 address, bytes in network order (IPv4 uses the first 4).
struct IpAddress {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};

  // Strict numeric text: dotted quad or RFC 4291 IPv6 (no brackets, no zone id).
  static std::optional<IpAddress> Parse(absl::string_view text);
  static IpAddress V4(uint8_t a, uint8_t b, uint8_t c, uint8_t d);
  // AF_INET / AF_INET6 sockaddrs of at least their size; nullopt for anything else.
  static std::optional<IpAddress> FromSockaddr(const sockaddr* address, size_t length);

  // The IPv4 address an IPv4-mapped, IPv4-compatible or NAT64 IPv6 address carries.
  std::optional<IpAddress> EmbeddedV4() const;
  // inet_ntop's form: "127.0.0.1", "::ffff:127.0.0.1", "fe80::1".
  std::string ToString() const;

  friend bool operator==(const IpAddress& a, const IpAddress& b) {
    return a.v6 == b.v6 && a.bytes == b.bytes;
  }
};

// Where an address points. Everything but kPublic is "inside".
enum class AddressClass {
  kPublic,
  kLoopback,     // 127.0.0.0/8, ::1
  kPrivate,      // 10/8, 172.16/12, 192.168/16, fc00::/7 (and deprecated site-local fec0::/10)
  kLinkLocal,    // 169.254.0.0/16, fe80::/10
  kCgnat,        // 100.64.0.0/10
  kUnspecified,  // 0.0.0.0/8, ::
  kBroadcast,    // 255.255.255.255
  kMulticast,    // 224.0.0.0/4, ff00::/8
};

AddressClass ClassifyAddress(const IpAddress& address);
// "public", "loopback", "private", "link-local", "CGNAT", "unspecified", "broadcast",
// "multicast".
absl::string_view AddressClassName(AddressClass address_class);

// An address block: `base` with the low (width - prefix_length) bits zero.
struct Cidr {
  IpAddress base;
  int prefix_length = 0;

  // Whether `address` (or the IPv4 address it embeds) is inside the block.
  bool Contains(const IpAddress& address) const;
  std::string ToString() const;
};

// Comma-separated blocks ("10.0.0.0/8, fd00::/8, 192.168.1.7"; a bare address is a /32 or
// /128); whitespace around entries is ignored.
absl::StatusOr<std::vector<Cidr>> ParseCidrList(absl::string_view text);

class AddressGuard {
 public:
  // The addresses of a host name (no literal), or an error status when it does not resolve.
  using Resolver = std::function<absl::StatusOr<std::vector<IpAddress>>(const std::string& host)>;

  // getaddrinfo(host, AF_UNSPEC, SOCK_STREAM): NOT_FOUND when the name does not resolve.
  static absl::StatusOr<std::vector<IpAddress>> SystemResolve(const std::string& host);

  // `allow_cidrs` as ParseCidrList reads it. A null `resolver` means SystemResolve.
  static absl::StatusOr<AddressGuard> Create(absl::string_view allow_cidrs,
                                             Resolver resolver = nullptr);
  // Allows no inside block; resolves with SystemResolve.
  AddressGuard();

  // The class that keeps `address` out, or nullopt when it may be reached.
  std::optional<AddressClass> Refuses(const IpAddress& address) const;
  absl::Status CheckAddress(const IpAddress& address) const;
  absl::Status CheckUrl(absl::string_view url) const;

  const std::vector<Cidr>& allowed() const { return allowed_; }

 private:
  AddressGuard(std::vector<Cidr> allowed, Resolver resolver);

  std::vector<Cidr> allowed_;
  Resolver resolver_;
};

}  // namespace okr::outbound

#endif  // OKR_CONNECTORS_HTTP_ADDRESS_GUARD_H_
