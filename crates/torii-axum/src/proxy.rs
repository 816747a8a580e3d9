//! Which address a request comes from: the socket's, or the one a trusted proxy reports.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::ConnectInfo;
use axum::http::HeaderMap;
use axum::http::request::Parts;

/// One network: an address and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr.parse::<IpAddr>().ok()?, Some(prefix.parse::<u8>().ok()?)),
            None => (text.parse::<IpAddr>().ok()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(Self { network: addr, prefix })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// An IPv4-mapped IPv6 address (as a dual-stack socket reports IPv4 peers) is the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The proxies whose forwarding headers are believed.
///
/// By default there are none: the client address is the socket's peer (axum's `ConnectInfo`), and
/// `X-Forwarded-For`, `Forwarded` and `X-Real-IP` are ignored, since any client can send them. Behind a
/// reverse proxy or load balancer, list its networks: when the peer is one of them, the client is the
/// right-most address in the forwarding chain that is not itself a trusted proxy (addresses further
/// left were written by the client and may be forged). `Forwarded` (RFC 7239) is read first, then
/// `X-Forwarded-For`, then `X-Real-IP`.
///
/// The auth router uses the list given to [`crate::AuthRoutes::with_trusted_proxies`]; for
/// [`crate::ClientInfo`] in your own routes, add it as a layer too:
/// `.layer(axum::Extension(trusted_proxies))`.
///
/// ```
/// use torii_axum::TrustedProxies;
///
/// let proxies = TrustedProxies::parse("10.0.0.0/8, 192.168.1.1, fd00::/8")?;
/// assert!(!proxies.is_empty());
/// assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
/// # Ok::<(), torii_axum::InvalidCidr>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Arc<[Cidr]>);

/// A trusted-proxy entry that is not an address or `address/prefix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidCidr(String);

impl std::error::Error for InvalidCidr {}

impl std::fmt::Display for InvalidCidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "not an IP address or CIDR network: {:?}", self.0)
    }
}

impl TrustedProxies {
    /// No trusted proxies (the default): the socket's peer is the client.
    pub fn none() -> Self {
        Self::default()
    }

    /// Trusts these networks (`10.0.0.0/8`, `2001:db8::/32`, or single addresses).
    ///
    /// # Errors
    /// [`InvalidCidr`] for an entry that does not parse.
    pub fn new<I, S>(networks: I) -> Result<Self, InvalidCidr>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let cidrs = networks
            .into_iter()
            .filter(|n| !n.as_ref().trim().is_empty())
            .map(|n| Cidr::parse(n.as_ref()).ok_or_else(|| InvalidCidr(n.as_ref().to_owned())))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self(Arc::from(cidrs)))
    }

    /// Parses a comma- or space-separated list (for example from `TORII_TRUSTED_PROXIES`).
    ///
    /// # Errors
    /// [`InvalidCidr`] for an entry that does not parse.
    pub fn parse(list: &str) -> Result<Self, InvalidCidr> {
        Self::new(list.split([',', ' ']))
    }

    /// True when no proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// True when `ip` is one of the trusted proxies.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|cidr| cidr.contains(ip))
    }

    /// The client address of a request that arrived from `peer` with these headers.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.contains(peer) {
            return peer;
        }
        let chain = forwarded_chain(headers);
        // Walk from the proxy nearest to us towards the client; the first hop we do not trust is the
        // client as far as anyone we trust can tell.
        for hop in chain.iter().rev() {
            match hop {
                Some(ip) if self.contains(*ip) => {}
                Some(ip) => return *ip,
                // An entry that is not an address (`unknown`, an obfuscated node): nothing we trust
                // vouches for anything beyond it, so the last trusted hop is the answer.
                None => break,
            }
        }
        // Every hop was a trusted proxy (or unreadable): the left-most trusted one is the best we know.
        chain.iter().rev().map_while(|hop| *hop).last().unwrap_or(peer)
    }

    /// The client address of a request, by these rules, or `None` without `ConnectInfo`.
    pub fn client_ip_of(&self, parts: &Parts) -> Option<IpAddr> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip())?;
        Some(self.client_ip(peer, &parts.headers))
    }
}

/// The addresses a request passed through, client first, from the first forwarding header present.
fn forwarded_chain(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let values = |name: &str| -> Vec<String> {
        headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).map(str::to_owned).collect()
    };
    let forwarded = values("forwarded");
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .flat_map(|v| v.split(','))
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.trim().split_once('='))
                    .find(|(name, _)| name.trim().eq_ignore_ascii_case("for"))
                    .and_then(|(_, node)| parse_node(node))
            })
            .collect();
    }
    let xff = values("x-forwarded-for");
    if !xff.is_empty() {
        return xff.iter().flat_map(|v| v.split(',')).map(parse_node).collect();
    }
    values("x-real-ip").iter().map(|v| parse_node(v)).collect()
}

/// An address as forwarding headers write it: `192.0.2.1`, `192.0.2.1:8080`, `"[2001:db8::1]:80"`,
/// `2001:db8::1`.
fn parse_node(node: &str) -> Option<IpAddr> {
    let node = node.trim().trim_matches('"');
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split_once(']').and_then(|(ip, _)| ip.parse().ok()).map(canonical);
    }
    node.parse::<SocketAddr>().ok().map(|addr| canonical(addr.ip()))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn untrusted_peers_are_the_client_whatever_they_claim() {
        let h = headers(&[("x-forwarded-for", "203.0.113.9"), ("x-real-ip", "203.0.113.9")]);
        assert_eq!(TrustedProxies::none().client_ip(ip("198.51.100.7"), &h), ip("198.51.100.7"));
        let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap_or_default();
        assert_eq!(proxies.client_ip(ip("198.51.100.7"), &h), ip("198.51.100.7"));
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client() {
        let proxies = TrustedProxies::parse("10.0.0.0/8, 2001:db8::/32").unwrap_or_default();
        // The client forged the first entry; our proxies appended the real one and themselves.
        let h = headers(&[("x-forwarded-for", "1.2.3.4, 198.51.100.7, 10.1.1.1")]);
        assert_eq!(proxies.client_ip(ip("10.0.0.1"), &h), ip("198.51.100.7"));
        let h = headers(&[("forwarded", "for=1.2.3.4, for=\"[2001:db9::5]:443\";proto=https, for=10.1.1.1")]);
        assert_eq!(proxies.client_ip(ip("::ffff:10.0.0.1"), &h), ip("2001:db9::5"));
        let h = headers(&[("x-real-ip", "198.51.100.8")]);
        assert_eq!(proxies.client_ip(ip("10.0.0.1"), &h), ip("198.51.100.8"));
        // Nothing forwarded: the proxy itself.
        assert_eq!(proxies.client_ip(ip("10.0.0.1"), &HeaderMap::new()), ip("10.0.0.1"));
    }

    #[test]
    fn networks_parse_and_match() {
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("not-an-ip").is_err());
        let proxies = TrustedProxies::parse("192.168.0.0/16 ::1").unwrap_or_default();
        assert!(proxies.contains(ip("192.168.44.3")));
        assert!(!proxies.contains(ip("192.169.0.1")));
        assert!(proxies.contains(ip("::1")));
        assert!(TrustedProxies::parse("0.0.0.0/0").unwrap_or_default().contains(ip("8.8.8.8")));
    }
}
