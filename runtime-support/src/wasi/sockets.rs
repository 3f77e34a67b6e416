//! `wasi:sockets` 0.2: present so that components importing it link, refusing everything.
//!
//! `instance-network` hands out a network resource (it has no methods); creating a socket and
//! resolving a name fail with `access-denied`, so no socket or resolver stream ever exists and
//! their methods can only be reached with forged handles: those answering a `result` say
//! `not-supported`, the others (`subscribe`, `is-listening`, `address-family`) trap on the
//! unknown handle.

use super::table::{bad_handle, Obj, Registrar};
use super::vals::{case, err, own, ret};
use crate::component::Val;

const NETWORK: &str = "wasi:sockets/network@0.2";
const TCP: &str = "wasi:sockets/tcp@0.2";
const UDP: &str = "wasi:sockets/udp@0.2";
const LOOKUP: &str = "wasi:sockets/ip-name-lookup@0.2";

/// `tcp-socket` methods returning `result<_, error-code>`.
const TCP_METHODS: &[&str] = &[
    "start-bind",
    "finish-bind",
    "start-connect",
    "finish-connect",
    "start-listen",
    "finish-listen",
    "accept",
    "local-address",
    "remote-address",
    "set-listen-backlog-size",
    "keep-alive-enabled",
    "set-keep-alive-enabled",
    "keep-alive-idle-time",
    "set-keep-alive-idle-time",
    "keep-alive-interval",
    "set-keep-alive-interval",
    "keep-alive-count",
    "set-keep-alive-count",
    "hop-limit",
    "set-hop-limit",
    "receive-buffer-size",
    "set-receive-buffer-size",
    "send-buffer-size",
    "set-send-buffer-size",
    "shutdown",
];

/// `udp-socket` methods returning `result<_, error-code>`.
const UDP_METHODS: &[&str] = &[
    "start-bind",
    "finish-bind",
    "stream",
    "local-address",
    "remote-address",
    "unicast-hop-limit",
    "set-unicast-hop-limit",
    "receive-buffer-size",
    "set-receive-buffer-size",
    "send-buffer-size",
    "set-send-buffer-size",
];

fn refuse(reg: &mut Registrar<'_>, iface: &'static str, name: &str, code: &'static str) {
    reg.func(iface, name, move |_, _| ret(err(case(code))));
}

/// Register `wasi:sockets`.
pub(crate) fn register(reg: &mut Registrar<'_>) {
    reg.resource(NETWORK, "network");
    reg.resource("wasi:sockets/instance-network@0.2", "network");
    reg.func(
        "wasi:sockets/instance-network@0.2",
        "instance-network",
        |st, _| ret(own(st.push(Obj::Unit))),
    );
    reg.func(NETWORK, "network-error-code", |_, _| ret(Val::Option(None)));
    refuse(
        reg,
        "wasi:sockets/tcp-create-socket@0.2",
        "create-tcp-socket",
        "access-denied",
    );
    refuse(
        reg,
        "wasi:sockets/udp-create-socket@0.2",
        "create-udp-socket",
        "access-denied",
    );
    refuse(reg, LOOKUP, "resolve-addresses", "access-denied");
    refuse(
        reg,
        LOOKUP,
        "[method]resolve-address-stream.resolve-next-address",
        "not-supported",
    );
    if reg.wants_interface(TCP) {
        for m in TCP_METHODS {
            refuse(
                reg,
                TCP,
                &alloc::format!("[method]tcp-socket.{m}"),
                "not-supported",
            );
        }
    }
    if reg.wants_interface(UDP) {
        for m in UDP_METHODS {
            refuse(
                reg,
                UDP,
                &alloc::format!("[method]udp-socket.{m}"),
                "not-supported",
            );
        }
    }
    for name in [
        "[method]incoming-datagram-stream.receive",
        "[method]outgoing-datagram-stream.check-send",
        "[method]outgoing-datagram-stream.send",
    ] {
        refuse(reg, UDP, name, "not-supported");
    }
    let unreachable: [(&str, &str); 7] = [
        (TCP, "[method]tcp-socket.subscribe"),
        (TCP, "[method]tcp-socket.is-listening"),
        (TCP, "[method]tcp-socket.address-family"),
        (UDP, "[method]udp-socket.subscribe"),
        (UDP, "[method]udp-socket.address-family"),
        (UDP, "[method]incoming-datagram-stream.subscribe"),
        (UDP, "[method]outgoing-datagram-stream.subscribe"),
    ];
    for (iface, name) in unreachable {
        reg.func(iface, name, |_, _| Err(bad_handle()));
    }
    reg.func(
        LOOKUP,
        "[method]resolve-address-stream.subscribe",
        |_, _| Err(bad_handle()),
    );
    for (iface, r) in [
        (TCP, "tcp-socket"),
        (UDP, "udp-socket"),
        (UDP, "incoming-datagram-stream"),
        (UDP, "outgoing-datagram-stream"),
        (LOOKUP, "resolve-address-stream"),
    ] {
        reg.resource(iface, r);
    }
}
