//! `ip-restriction` (priority 990), as Kong 3.x's
//! `kong/plugins/ip-restriction/handler.lua`: the client's address (the peer's; an
//! IPv4-mapped IPv6 address counts as IPv4) is refused when it is in `deny`, or when
//! `allow` is given and it is not in it. The answer is `status` (403) with
//! `{"message": message}` (default `IP address not allowed: <ip>`).

use std::net::IpAddr;

use hyper::StatusCode;
use ipnet::IpNet;
use portico_plugins::config;

use super::{Access, Answer};
use crate::gateway::log::ErrorKind;

pub(crate) struct IpRestriction {
    allow: Vec<IpNet>,
    deny: Vec<IpNet>,
    status: StatusCode,
    message: Option<String>,
}

fn nets(field: &str, list: Option<Vec<String>>) -> Result<Vec<IpNet>, String> {
    list.unwrap_or_default()
        .iter()
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("config.{field}: {s:?} is not an IP address or CIDR range"))
        })
        .collect()
}

impl IpRestriction {
    pub(crate) fn compile(cfg: config::IpRestriction) -> Result<IpRestriction, String> {
        let status = match cfg.status {
            None => StatusCode::FORBIDDEN,
            Some(s) => StatusCode::from_u16(s as u16)
                .ok()
                .filter(|_| s.fract() == 0.0 && (100.0..=599.0).contains(&s))
                .ok_or_else(|| format!("config.status: {s} is not an HTTP status"))?,
        };
        Ok(IpRestriction {
            allow: nets("allow", cfg.allow)?,
            deny: nets("deny", cfg.deny)?,
            status,
            message: cfg.message,
        })
    }

    /// Whether `ip` is refused.
    fn refused(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        if self.deny.iter().any(|n| n.contains(&ip)) {
            return true;
        }
        !self.allow.is_empty() && !self.allow.iter().any(|n| n.contains(&ip))
    }

    pub(crate) fn access(&self, cx: &mut Access<'_>) -> Result<(), Answer> {
        if !self.refused(cx.peer) {
            return Ok(());
        }
        let ip = cx.peer.to_canonical();
        let message = match &self.message {
            Some(m) => m.clone(),
            None => format!("IP address not allowed: {ip}"),
        };
        tracing::debug!("ip-restriction: {message}");
        Err(Answer::error(self.status, ErrorKind::Forbidden, &message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plugin(allow: &[&str], deny: &[&str]) -> IpRestriction {
        let l = |v: &[&str]| (!v.is_empty()).then(|| v.iter().map(|s| s.to_string()).collect());
        IpRestriction::compile(config::IpRestriction {
            allow: l(allow),
            deny: l(deny),
            status: None,
            message: None,
        })
        .unwrap()
    }

    #[test]
    fn allow_and_deny_with_cidrs_and_ipv6() {
        // (allow, deny, client, refused)
        let table: &[(&[&str], &[&str], &str, bool)] = &[
            (&["127.0.0.1"], &[], "127.0.0.1", false),
            (&["127.0.0.1"], &[], "127.0.0.2", true),
            (&["10.0.0.0/8"], &[], "10.1.2.3", false),
            (&[], &["10.0.0.0/8"], "10.1.2.3", true),
            (&[], &["10.0.0.0/8"], "11.1.2.3", false),
            // deny first, then allow
            (&["10.0.0.0/8"], &["10.0.0.1"], "10.0.0.1", true),
            (&["::1"], &[], "::1", false),
            (&["2001:db8::/32"], &[], "2001:db8::5", false),
            (&["2001:db8::/32"], &[], "2001:db9::5", true),
            // an IPv4-mapped IPv6 peer is the IPv4 address
            (&["127.0.0.1"], &[], "::ffff:127.0.0.1", false),
        ];
        for (allow, deny, ip, refused) in table {
            let p = plugin(allow, deny);
            assert_eq!(
                p.refused(ip.parse().unwrap()),
                *refused,
                "allow {allow:?} deny {deny:?} ip {ip}"
            );
        }
    }

    #[test]
    fn a_bad_entry_refuses_the_config() {
        let err = IpRestriction::compile(config::IpRestriction {
            allow: Some(vec!["nope".into()]),
            ..Default::default()
        })
        .err()
        .unwrap();
        assert!(err.contains("config.allow"), "{err}");
    }
}
