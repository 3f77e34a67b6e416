//! Byte encoding of [`ComponentInfo`], built on the same primitives as [`crate::info`].

use super::*;
use crate::info::{Reader, Writer};

impl ComponentInfo {
    /// Encode to bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.bytes(b"WELDCOMP");
        w.u(self.types.len() as u64);
        for t in &self.types {
            typedef(&mut w, t);
        }
        w.u(self.func_types.len() as u64);
        for f in &self.func_types {
            w.u(f.params.len() as u64);
            for (n, t) in &f.params {
                w.str(n);
                w.u(*t as u64);
            }
            w.opt(f.result.map(u64::from));
            w.byte(u8::from(f.async_));
        }
        w.u(self.component_instances as u64);
        w.u(self.instances.len() as u64);
        for i in &self.instances {
            w.u(i.module as u64);
            w.u(i.args.len() as u64);
            for a in &i.args {
                coredef(&mut w, a);
            }
        }
        w.u(self.lowerings.len() as u64);
        for l in &self.lowerings {
            match &l.target {
                LoweringTarget::Lifted(f) => {
                    w.byte(0);
                    lifted(&mut w, f);
                }
                LoweringTarget::Import(i) => {
                    w.byte(1);
                    w.u(*i as u64);
                }
                LoweringTarget::Builtin(b) => {
                    w.byte(2);
                    builtin(&mut w, b);
                }
            }
            w.u(l.ty as u64);
            opts(&mut w, &l.opts);
            w.u(l.core_params.len() as u64);
            for p in &l.core_params {
                w.byte(p.code());
            }
            w.u(l.core_results.len() as u64);
            for p in &l.core_results {
                w.byte(p.code());
            }
            w.opt(l.host_call.map(u64::from));
        }
        w.u(self.resources.len() as u64);
        for r in &self.resources {
            w.str(&r.name);
            w.u(r.instance as u64);
            optdef(&mut w, &r.dtor);
        }
        w.u(self.imports.len() as u64);
        for i in &self.imports {
            w.str(&i.name);
            w.u(i.ty as u64);
        }
        w.u(self.exports.len() as u64);
        for e in &self.exports {
            w.str(&e.name);
            lifted(&mut w, &e.func);
            w.opt(e.host_entry.map(u64::from));
        }
        w.out
    }

    /// Decode bytes written by [`ComponentInfo::encode`].
    pub fn decode(bytes: &[u8]) -> Option<ComponentInfo> {
        let mut r = Reader { b: bytes, pos: 0 };
        if r.take(8)? != b"WELDCOMP" {
            return None;
        }
        let mut c = ComponentInfo {
            types: r.list(read_typedef)?,
            func_types: r.list(|r| {
                let params = r.list(|r| Some((r.str()?, r.u32()?)))?;
                let result = opt_u32(r)?;
                let async_ = read_bool(r)?;
                Some(FuncTy {
                    params,
                    result,
                    async_,
                })
            })?,
            component_instances: r.u32()?,
            ..ComponentInfo::default()
        };
        c.instances = r.list(|r| {
            let module = r.u32()?;
            let args = r.list(read_coredef)?;
            Some(CoreInstance { module, args })
        })?;
        c.lowerings = r.list(|r| {
            let target = match r.byte()? {
                0 => LoweringTarget::Lifted(read_lifted(r)?),
                1 => LoweringTarget::Import(r.u32()?),
                2 => LoweringTarget::Builtin(read_builtin(r)?),
                _ => return None,
            };
            let ty = r.u32()?;
            let opts = read_opts(r)?;
            let core_params = r.vals()?;
            let core_results = r.vals()?;
            let host_call = opt_u32(r)?;
            Some(Lowering {
                target,
                ty,
                opts,
                core_params,
                core_results,
                host_call,
            })
        })?;
        c.resources = r.list(|r| {
            let name = r.str()?;
            let instance = r.u32()?;
            let dtor = read_optdef(r)?;
            Some(Resource {
                name,
                instance,
                dtor,
            })
        })?;
        c.imports = r.list(|r| {
            let name = r.str()?;
            let ty = r.u32()?;
            Some(HostImport { name, ty })
        })?;
        c.exports = r.list(|r| {
            let name = r.str()?;
            let func = read_lifted(r)?;
            let host_entry = opt_u32(r)?;
            Some(ComponentExport {
                name,
                func,
                host_entry,
            })
        })?;
        if r.pos != bytes.len() {
            return None;
        }
        Some(c)
    }
}

fn names(w: &mut Writer, v: &[String]) {
    w.u(v.len() as u64);
    for n in v {
        w.str(n);
    }
}

fn typedef(w: &mut Writer, t: &TypeDef) {
    let prim = |t: &TypeDef| -> Option<u8> {
        Some(match t {
            TypeDef::Bool => 0,
            TypeDef::S8 => 1,
            TypeDef::U8 => 2,
            TypeDef::S16 => 3,
            TypeDef::U16 => 4,
            TypeDef::S32 => 5,
            TypeDef::U32 => 6,
            TypeDef::S64 => 7,
            TypeDef::U64 => 8,
            TypeDef::F32 => 9,
            TypeDef::F64 => 10,
            TypeDef::Char => 11,
            TypeDef::String => 12,
            _ => return None,
        })
    };
    if let Some(p) = prim(t) {
        w.byte(p);
        return;
    }
    match t {
        TypeDef::List(e) => {
            w.byte(13);
            w.u(*e as u64);
        }
        TypeDef::Record(fields) => {
            w.byte(14);
            w.u(fields.len() as u64);
            for (n, t) in fields {
                w.str(n);
                w.u(*t as u64);
            }
        }
        TypeDef::Tuple(ts) => {
            w.byte(15);
            w.u32s(ts);
        }
        TypeDef::Variant(cases) => {
            w.byte(16);
            w.u(cases.len() as u64);
            for (n, t) in cases {
                w.str(n);
                w.opt(t.map(u64::from));
            }
        }
        TypeDef::Enum(n) => {
            w.byte(17);
            names(w, n);
        }
        TypeDef::Option(t) => {
            w.byte(18);
            w.u(*t as u64);
        }
        TypeDef::Result { ok, err } => {
            w.byte(19);
            w.opt(ok.map(u64::from));
            w.opt(err.map(u64::from));
        }
        TypeDef::Flags(n) => {
            w.byte(20);
            names(w, n);
        }
        TypeDef::FixedList { elem, len } => {
            w.byte(23);
            w.u(*elem as u64);
            w.u(*len as u64);
        }
        TypeDef::Map { entry } => {
            w.byte(24);
            w.u(*entry as u64);
        }
        TypeDef::Own(r) => {
            w.byte(21);
            w.u(*r as u64);
        }
        TypeDef::Stream(t) => {
            w.byte(25);
            w.opt(t.map(u64::from));
        }
        TypeDef::Future(t) => {
            w.byte(26);
            w.opt(t.map(u64::from));
        }
        TypeDef::ErrorContext => w.byte(27),
        TypeDef::Borrow(r) => {
            w.byte(22);
            w.u(*r as u64);
        }
        _ => {}
    }
}

fn read_names(r: &mut Reader<'_>) -> Option<Vec<String>> {
    r.list(Reader::str)
}

fn opt_u32(r: &mut Reader<'_>) -> Option<Option<u32>> {
    Some(match r.opt()? {
        Some(v) => Some(u32::try_from(v).ok()?),
        None => None,
    })
}

fn read_typedef(r: &mut Reader<'_>) -> Option<TypeDef> {
    Some(match r.byte()? {
        0 => TypeDef::Bool,
        1 => TypeDef::S8,
        2 => TypeDef::U8,
        3 => TypeDef::S16,
        4 => TypeDef::U16,
        5 => TypeDef::S32,
        6 => TypeDef::U32,
        7 => TypeDef::S64,
        8 => TypeDef::U64,
        9 => TypeDef::F32,
        10 => TypeDef::F64,
        11 => TypeDef::Char,
        12 => TypeDef::String,
        13 => TypeDef::List(r.u32()?),
        14 => TypeDef::Record(r.list(|r| Some((r.str()?, r.u32()?)))?),
        15 => TypeDef::Tuple(r.u32s()?),
        16 => TypeDef::Variant(r.list(|r| Some((r.str()?, opt_u32(r)?)))?),
        17 => TypeDef::Enum(read_names(r)?),
        18 => TypeDef::Option(r.u32()?),
        19 => TypeDef::Result {
            ok: opt_u32(r)?,
            err: opt_u32(r)?,
        },
        20 => TypeDef::Flags(read_names(r)?),
        21 => TypeDef::Own(r.u32()?),
        22 => TypeDef::Borrow(r.u32()?),
        23 => TypeDef::FixedList {
            elem: r.u32()?,
            len: r.u32()?,
        },
        24 => TypeDef::Map { entry: r.u32()? },
        25 => TypeDef::Stream(opt_u32(r)?),
        26 => TypeDef::Future(opt_u32(r)?),
        27 => TypeDef::ErrorContext,
        _ => return None,
    })
}

fn coredef(w: &mut Writer, d: &CoreDef) {
    match d {
        CoreDef::Export { instance, name } => {
            w.byte(0);
            w.u(*instance as u64);
            w.str(name);
        }
        CoreDef::Lowering(i) => {
            w.byte(1);
            w.u(*i as u64);
        }
        CoreDef::ResourceNew(i) => {
            w.byte(2);
            w.u(*i as u64);
        }
        CoreDef::ResourceRep(i) => {
            w.byte(3);
            w.u(*i as u64);
        }
        CoreDef::ResourceDrop { resource, instance } => {
            w.byte(4);
            w.u(*resource as u64);
            w.u(*instance as u64);
        }
        CoreDef::Flag { instance, flag } => {
            w.byte(5);
            w.u(*instance as u64);
            w.byte(match flag {
                ComponentFlag::MayEnter => 0,
                ComponentFlag::MayLeave => 1,
            });
        }
        CoreDef::Transcode { lowering, results } => {
            w.byte(7);
            w.u(*lowering as u64);
            w.byte(u8::from(*results));
        }
        CoreDef::Handle {
            op,
            lowering,
            resource,
        } => {
            w.byte(8);
            let code = HandleOp::ALL.iter().position(|o| o == op).unwrap_or(0);
            w.byte(code as u8);
            w.u(*lowering as u64);
            w.u(*resource as u64);
        }
        CoreDef::HostMemory => w.byte(9),
        CoreDef::HostCall(i) => {
            w.byte(10);
            w.u(*i as u64);
        }
        CoreDef::Intrinsic { op, memory } => {
            w.byte(6);
            let code = Intrinsic::ALL.iter().position(|i| i == op).unwrap_or(0);
            w.byte(code as u8);
            match memory {
                Some((instance, name)) => {
                    w.byte(1);
                    w.u(*instance as u64);
                    w.str(name);
                }
                None => w.byte(0),
            }
        }
    }
}

fn read_coredef(r: &mut Reader<'_>) -> Option<CoreDef> {
    Some(match r.byte()? {
        0 => {
            let instance = r.u32()?;
            CoreDef::Export {
                instance,
                name: r.str()?,
            }
        }
        1 => CoreDef::Lowering(r.u32()?),
        2 => CoreDef::ResourceNew(r.u32()?),
        3 => CoreDef::ResourceRep(r.u32()?),
        4 => CoreDef::ResourceDrop {
            resource: r.u32()?,
            instance: r.u32()?,
        },
        5 => CoreDef::Flag {
            instance: r.u32()?,
            flag: match r.byte()? {
                0 => ComponentFlag::MayEnter,
                1 => ComponentFlag::MayLeave,
                _ => return None,
            },
        },
        6 => CoreDef::Intrinsic {
            op: *Intrinsic::ALL.get(r.byte()? as usize)?,
            memory: match r.byte()? {
                0 => None,
                1 => {
                    let instance = r.u32()?;
                    Some((instance, r.str()?))
                }
                _ => return None,
            },
        },
        8 => {
            let op = *HandleOp::ALL.get(r.byte()? as usize)?;
            CoreDef::Handle {
                op,
                lowering: r.u32()?,
                resource: r.u32()?,
            }
        }
        9 => CoreDef::HostMemory,
        10 => CoreDef::HostCall(r.u32()?),
        7 => CoreDef::Transcode {
            lowering: r.u32()?,
            results: match r.byte()? {
                0 => false,
                1 => true,
                _ => return None,
            },
        },
        _ => return None,
    })
}

fn optdef(w: &mut Writer, d: &Option<CoreDef>) {
    match d {
        Some(d) => {
            w.byte(1);
            coredef(w, d);
        }
        None => w.byte(0),
    }
}

fn read_optdef(r: &mut Reader<'_>) -> Option<Option<CoreDef>> {
    Some(match r.byte()? {
        0 => None,
        1 => Some(read_coredef(r)?),
        _ => return None,
    })
}

fn opts(w: &mut Writer, o: &CanonOpts) {
    w.u(o.instance as u64);
    optdef(w, &o.memory);
    optdef(w, &o.realloc);
    optdef(w, &o.post_return);
    w.byte(match o.encoding {
        StringEncoding::Utf8 => 0,
        StringEncoding::Utf16 => 1,
        StringEncoding::CompactUtf16 => 2,
    });
    w.byte(u8::from(o.async_));
    optdef(w, &o.callback);
}

fn read_bool(r: &mut Reader<'_>) -> Option<bool> {
    match r.byte()? {
        0 => Some(false),
        1 => Some(true),
        _ => None,
    }
}

fn builtin(w: &mut Writer, b: &Builtin) {
    w.byte(b.tag());
    match b {
        Builtin::ContextGet { slot } | Builtin::ContextSet { slot } => w.u(*slot as u64),
        Builtin::Channel { ty, op } => {
            w.u(*ty as u64);
            let code = ChannelOp::ALL.iter().position(|o| o == op).unwrap_or(0);
            w.byte(code as u8);
        }
        Builtin::Unsupported(name) => w.str(name),
        Builtin::ThreadNewIndirect {
            table,
            start,
            param64,
        } => {
            coredef(w, table);
            optdef(w, start);
            w.byte(u8::from(*param64));
        }
        _ => {}
    }
}

fn read_builtin(r: &mut Reader<'_>) -> Option<Builtin> {
    let tag = r.byte()?;
    Some(match tag {
        0 => Builtin::ContextGet { slot: r.u32()? },
        1 => Builtin::ContextSet { slot: r.u32()? },
        14 => {
            let ty = r.u32()?;
            let op = *ChannelOp::ALL.get(r.byte()? as usize)?;
            Builtin::Channel { ty, op }
        }
        18 => Builtin::Unsupported(r.str()?),
        21 => Builtin::ThreadNewIndirect {
            table: read_coredef(r)?,
            start: read_optdef(r)?,
            param64: read_bool(r)?,
        },
        t => Builtin::plain(t)?,
    })
}

fn read_opts(r: &mut Reader<'_>) -> Option<CanonOpts> {
    Some(CanonOpts {
        instance: r.u32()?,
        memory: read_optdef(r)?,
        realloc: read_optdef(r)?,
        post_return: read_optdef(r)?,
        encoding: match r.byte()? {
            0 => StringEncoding::Utf8,
            1 => StringEncoding::Utf16,
            2 => StringEncoding::CompactUtf16,
            _ => return None,
        },
        async_: read_bool(r)?,
        callback: read_optdef(r)?,
    })
}

fn lifted(w: &mut Writer, f: &Lifted) {
    coredef(w, &f.func);
    w.u(f.ty as u64);
    opts(w, &f.opts);
}

fn read_lifted(r: &mut Reader<'_>) -> Option<Lifted> {
    Some(Lifted {
        func: read_coredef(r)?,
        ty: r.u32()?,
        opts: read_opts(r)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn sample() -> ComponentInfo {
        let opts = CanonOpts {
            instance: 1,
            memory: Some(CoreDef::Export {
                instance: 0,
                name: "memory".into(),
            }),
            realloc: Some(CoreDef::Export {
                instance: 0,
                name: "cabi_realloc".into(),
            }),
            post_return: None,
            encoding: StringEncoding::CompactUtf16,
            async_: true,
            callback: Some(CoreDef::Export {
                instance: 0,
                name: "cb".into(),
            }),
        };
        let f = Lifted {
            func: CoreDef::Export {
                instance: 0,
                name: "f".into(),
            },
            ty: 0,
            opts: opts.clone(),
        };
        ComponentInfo {
            types: vec![
                TypeDef::String,
                TypeDef::List(0),
                TypeDef::Record(vec![("a".into(), 1)]),
                TypeDef::Variant(vec![("x".into(), None), ("y".into(), Some(0))]),
                TypeDef::Result {
                    ok: Some(0),
                    err: None,
                },
                TypeDef::Flags(vec!["r".into(), "w".into()]),
                TypeDef::Own(0),
                TypeDef::FixedList { elem: 0, len: 3 },
                TypeDef::Tuple(vec![0, 1]),
                TypeDef::Map { entry: 9 },
                TypeDef::Stream(Some(2)),
                TypeDef::Stream(None),
                TypeDef::Future(Some(0)),
                TypeDef::Future(None),
                TypeDef::ErrorContext,
            ],
            func_types: vec![
                FuncTy {
                    params: vec![("s".into(), 0)],
                    result: Some(2),
                    async_: false,
                },
                FuncTy {
                    params: vec![],
                    result: None,
                    async_: true,
                },
            ],
            component_instances: 2,
            instances: vec![CoreInstance {
                module: 0,
                args: vec![
                    CoreDef::Lowering(0),
                    CoreDef::ResourceNew(0),
                    CoreDef::Flag {
                        instance: 1,
                        flag: ComponentFlag::MayLeave,
                    },
                    CoreDef::Transcode {
                        lowering: 0,
                        results: true,
                    },
                    CoreDef::Intrinsic {
                        op: Intrinsic::ValidateUtf8,
                        memory: Some((0, "memory".into())),
                    },
                    CoreDef::HostMemory,
                    CoreDef::HostCall(0),
                    CoreDef::Intrinsic {
                        op: Intrinsic::HostRealloc,
                        memory: None,
                    },
                    CoreDef::Intrinsic {
                        op: Intrinsic::Trap,
                        memory: None,
                    },
                    CoreDef::Handle {
                        op: HandleOp::BorrowIn,
                        lowering: 0,
                        resource: 0,
                    },
                ],
            }],
            lowerings: [
                LoweringTarget::Lifted(f.clone()),
                LoweringTarget::Builtin(Builtin::ContextSet { slot: 1 }),
                LoweringTarget::Builtin(Builtin::Channel {
                    ty: 11,
                    op: ChannelOp::CancelWrite,
                }),
                LoweringTarget::Builtin(Builtin::WaitableSetPoll),
                LoweringTarget::Builtin(Builtin::Unsupported("thread.spawn-ref".into())),
                LoweringTarget::Builtin(Builtin::ThreadNewIndirect {
                    table: CoreDef::Export {
                        instance: 0,
                        name: "t".into(),
                    },
                    start: Some(CoreDef::Export {
                        instance: 1,
                        name: "adapter".into(),
                    }),
                    param64: true,
                }),
                LoweringTarget::Builtin(Builtin::ThreadSuspendThenPromote),
            ]
            .into_iter()
            .map(|target| Lowering {
                target,
                ty: 0,
                opts: opts.clone(),
                core_params: vec![ValType::I32, ValType::I32],
                core_results: vec![ValType::I32],
                host_call: Some(0),
            })
            .collect(),
            resources: vec![Resource {
                name: "r".into(),
                instance: 1,
                dtor: None,
            }],
            imports: vec![HostImport {
                name: "wasi:cli/stdout@0.2.0#get-stdout".into(),
                ty: 0,
            }],
            exports: vec![ComponentExport {
                name: "f".into(),
                func: f,
                host_entry: Some(1),
            }],
        }
    }

    #[test]
    fn component_info_round_trips() {
        let c = sample();
        assert_eq!(ComponentInfo::decode(&c.encode()), Some(c));
    }

    #[test]
    fn truncated_component_info_is_refused() {
        let b = sample().encode();
        for cut in 0..b.len() {
            assert_eq!(ComponentInfo::decode(&b[..cut]), None);
        }
    }
}
