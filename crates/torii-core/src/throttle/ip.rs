//! Which addresses count as one client.

use std::net::{IpAddr, Ipv6Addr};

/// The group an address is counted in: an IPv4 address on its own, an IPv6 address with the rest of
/// its /64 (one customer line or one host usually gets a whole /64, so counting single IPv6 addresses
/// would let one client rotate through billions of them). IPv4-mapped IPv6 addresses count as the
/// IPv4 address they carry.
pub fn client_group(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                let prefix = Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                format!("{prefix}/64")
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(s: &str) -> String {
        s.parse().map(client_group).unwrap_or_default()
    }

    #[test]
    fn ipv6_addresses_are_grouped_by_slash_64() {
        assert_eq!(group("2001:db8:1:2::1"), group("2001:db8:1:2:ffff:ffff:ffff:ffff"));
        assert_ne!(group("2001:db8:1:2::1"), group("2001:db8:1:3::1"));
        assert_eq!(group("2001:db8:1:2::1"), "2001:db8:1:2::/64");
    }

    #[test]
    fn ipv4_addresses_stand_alone_and_mapped_ones_count_as_ipv4() {
        assert_ne!(group("192.0.2.1"), group("192.0.2.2"));
        assert_eq!(group("::ffff:192.0.2.1"), group("192.0.2.1"));
    }
}
