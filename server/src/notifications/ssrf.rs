//! The server-side request forgery guard: webhooks go to the public internet only, unless the
//! operator allows private targets. Checked at registration (a clear 400) and again for every
//! attempt, where the resolver hands the HTTP client only vetted addresses, so a name that
//! later resolves to an internal address (DNS rebinding) still reaches nothing inside.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Why a target is refused; the message tells the admin what to do.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Refused {
    #[error(
        "{host} is a private, loopback, link-local or otherwise internal address; webhooks go \
         to public addresses only (an operator may allow private targets with \
         --allow-private-webhooks)"
    )]
    Internal { host: String },
    #[error("the host {host} could not be resolved; check its name")]
    Unresolvable { host: String },
}

/// Refuses `url` if its host is, or resolves to, an internal address.
pub async fn vet_url(url: &Url, allow_private: bool) -> Result<(), Refused> {
    if allow_private {
        return Ok(());
    }
    let host = url.host_str().unwrap_or_default();
    let refused = || Refused::Internal {
        host: host.to_owned(),
    };
    if let Some(ip) = ip_literal(host) {
        return if is_internal(ip) {
            Err(refused())
        } else {
            Ok(())
        };
    }
    // Names meant to be local are refused without asking DNS what it thinks.
    let lower = host.to_ascii_lowercase();
    if lower == "localhost" || lower.ends_with(".localhost") {
        return Err(refused());
    }
    let port = url.port_or_known_default().unwrap_or(443);
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|_| Refused::Unresolvable {
            host: host.to_owned(),
        })?
        .collect();
    if addresses.is_empty() {
        return Err(Refused::Unresolvable {
            host: host.to_owned(),
        });
    }
    if addresses.iter().any(|address| is_internal(address.ip())) {
        return Err(refused());
    }
    Ok(())
}

/// The address in a URL host written as an IP (`10.0.0.1`, `[::1]`); such hosts bypass DNS,
/// and so the resolver, and must be checked before connecting.
pub fn ip_literal(host: &str) -> Option<IpAddr> {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
}

/// A resolver for the delivery client that drops internal addresses.
#[derive(Debug, Clone, Copy)]
pub struct VettedResolver {
    pub allow_private: bool,
}

impl Resolve for VettedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let resolved = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let vetted: Vec<SocketAddr> = resolved
                .filter(|address| allow_private || !is_internal(address.ip()))
                .collect();
            if vetted.is_empty() {
                return Err(Box::new(Refused::Internal { host }) as _);
            }
            Ok(Box::new(vetted.into_iter()) as Addrs)
        })
    }
}

/// Whether `ip` is anything but a public unicast address.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_internal_v4(v4),
        IpAddr::V6(v6) => is_internal_v6(v6),
    }
}

fn is_internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_unspecified()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT, often internal
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240 // reserved
}

fn is_internal_v6(ip: Ipv6Addr) -> bool {
    // Addresses that carry an IPv4 address are judged by it.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_internal_v4(v4);
    }
    let segments = ip.segments();
    let embedded_v4 = |high: u16, low: u16| {
        Ipv4Addr::new((high >> 8) as u8, high as u8, (low >> 8) as u8, low as u8)
    };
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        // NAT64
        return is_internal_v4(embedded_v4(segments[6], segments[7]));
    }
    if segments[0] == 0x2002 {
        // 6to4
        return is_internal_v4(embedded_v4(segments[1], segments[2]));
    }
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (segments[0] & 0xfe00) == 0xfc00 // unique local
        || (segments[0] & 0xffc0) == 0xfe80 // link-local
        || (segments[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || segments[..6] == [0, 0, 0, 0, 0, 0] // IPv4-compatible (deprecated)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn internal(text: &str) -> bool {
        is_internal(text.parse().unwrap())
    }

    #[test]
    fn refuses_internal_addresses() {
        for address in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.169.254",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "100.64.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "ff02::1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "2002:a00:1::",
            "::7f00:1",
        ] {
            assert!(internal(address), "{address} should be internal");
        }
    }

    #[test]
    fn accepts_public_addresses() {
        for address in [
            "93.184.215.14",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(!internal(address), "{address} should be public");
        }
    }

    #[tokio::test]
    async fn refuses_local_names_and_literals_without_sending_anything() {
        for url in [
            "http://localhost:8080/x",
            "http://[::1]/",
            "https://10.0.0.5/hook",
            "http://app.localhost/",
        ] {
            let url: Url = url.parse().unwrap();
            assert!(
                matches!(vet_url(&url, false).await, Err(Refused::Internal { .. })),
                "{url}"
            );
            assert!(vet_url(&url, true).await.is_ok());
        }
    }
}
