//! Component front end: parse and validate a component, recording every component definition
//! (the root and each nested one) as the ordered list of its index-space-defining items.
//!
//! In: component bytes. Out: a [`Translation`] — the bytes of every core module found anywhere
//! in the component (compiled separately later), and per component definition its
//! [`Init`]s in section order plus wasmparser's type information for it.
//!
//! Invariant: everything is validated here (with the component-model features), so the
//! flattening pass that follows may index freely; it reports only "unsupported".

use crate::error::{Error, Result};
use wasmparser::types::Types;
use wasmparser::{
    CanonicalFunction, ComponentAlias, ComponentExport, ComponentImport, ComponentInstance,
    Instance, Parser, Payload, ValidPayload, Validator,
};

/// One item of a component definition, in section order.
#[derive(Debug)]
pub enum Init<'a> {
    /// `(import ...)`.
    Import(ComponentImport<'a>),
    /// A nested core module: index into [`Translation::modules`].
    CoreModule(u32),
    /// A nested component: index into [`Translation::components`].
    Component(u32),
    /// A core instance.
    CoreInstance(Instance<'a>),
    /// A component instance.
    Instance(ComponentInstance<'a>),
    /// An alias.
    Alias(ComponentAlias<'a>),
    /// A `canon` definition.
    Canon(CanonicalFunction),
    /// An export.
    Export(ComponentExport<'a>),
    /// A component type definition (adds one entry to the type index space); for a resource
    /// definition, `Some(dtor)` with its destructor's core function index.
    Type(Option<Option<u32>>),
    /// A core type definition.
    CoreType,
    /// A start function (value-level start; unsupported when it does anything).
    Start,
}

/// One component definition.
pub struct ComponentDef<'a> {
    /// Its items, in order.
    pub inits: Vec<Init<'a>>,
    /// wasmparser's types for it.
    pub types: Option<Types>,
    /// Names from its `component-name` custom section (best effort: a malformed name section
    /// is ignored, as names never change what the component does).
    pub names: DefNames,
}

/// The names a component definition gives itself and its items (the `$id`s of the text format).
#[derive(Debug, Default)]
pub struct DefNames {
    /// The definition's own name.
    pub component: Option<String>,
    /// Component instances, by index in its component-instance index space.
    pub instances: std::collections::HashMap<u32, String>,
    /// Nested component definitions, by index in its component index space.
    pub components: std::collections::HashMap<u32, String>,
}

/// Everything in a component's bytes.
pub struct Translation<'a> {
    /// Every core module, by module index.
    pub modules: Vec<&'a [u8]>,
    /// Where each of `modules` starts in the component's bytes (for error offsets).
    pub module_offsets: Vec<u64>,
    /// Every component definition; index 0 is the root.
    pub components: Vec<ComponentDef<'a>>,
}

enum Frame {
    Component(u32),
    Module,
}

/// Parse and validate component bytes, core function bodies included.
pub fn translate(bytes: &[u8], features: wasmparser::WasmFeatures) -> Result<Translation<'_>> {
    translate_with(bytes, features, Bodies::Validate)
}

/// Whether [`translate_with`] validates core function bodies.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Bodies {
    /// Validate them here.
    Validate,
    /// Leave them to code generation, which validates every body of every module as it
    /// translates it (in parallel), with the same offsets: validating them here too would be
    /// a second serial pass over all the code.
    LeaveToCodegen,
}

/// Parse and validate component bytes; core function bodies as `bodies` says.
pub fn translate_with(
    bytes: &[u8],
    features: wasmparser::WasmFeatures,
    bodies: Bodies,
) -> Result<Translation<'_>> {
    let mut validator = Validator::new_with_features(features);
    let mut t = Translation {
        modules: Vec::new(),
        module_offsets: Vec::new(),
        components: Vec::new(),
    };
    let mut stack: Vec<Frame> = Vec::new();
    let mut deferred: Option<Error> = None;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload?;
        let valid = validator.payload(&payload)?;
        let current = match stack.last() {
            Some(Frame::Component(c)) => Some(*c as usize),
            _ => None,
        };
        if let ValidPayload::Func(v, body) = valid {
            if bodies == Bodies::Validate {
                let mut fv = v.into_validator(Default::default());
                fv.validate(&body)?;
            }
            continue;
        }
        let end_types = match valid {
            ValidPayload::End(types) => Some(types),
            _ => None,
        };
        match payload {
            Payload::Version {
                encoding, range, ..
            } => match encoding {
                wasmparser::Encoding::Component => {
                    let index = t.components.len() as u32;
                    t.components.push(ComponentDef {
                        inits: Vec::new(),
                        types: None,
                        names: DefNames::default(),
                    });
                    if let Some(c) = current {
                        t.components[c].inits.push(Init::Component(index));
                    }
                    stack.push(Frame::Component(index));
                }
                wasmparser::Encoding::Module => {
                    if stack.is_empty() {
                        return Err(Error::unsupported(
                            "this is a core module, not a component",
                            range.start,
                        ));
                    }
                    stack.push(Frame::Module);
                }
            },
            Payload::ModuleSection {
                unchecked_range, ..
            } => {
                let index = t.modules.len() as u32;
                let module_bytes = crate::frontend::input_slice(bytes, &unchecked_range)?;
                t.modules.push(module_bytes);
                t.module_offsets.push(unchecked_range.start);
                if let Some(c) = current {
                    t.components[c].inits.push(Init::CoreModule(index));
                }
            }
            Payload::End(_) => {
                if let Some(Frame::Component(c)) = stack.pop() {
                    t.components[c as usize].types = end_types;
                }
            }
            _ if current.is_none() => {}
            Payload::ComponentImportSection(r) => {
                for i in r {
                    push(&mut t, current, Init::Import(i?));
                }
            }
            Payload::InstanceSection(r) => {
                for i in r {
                    push(&mut t, current, Init::CoreInstance(i?));
                }
            }
            Payload::ComponentInstanceSection(r) => {
                for i in r {
                    push(&mut t, current, Init::Instance(i?));
                }
            }
            Payload::ComponentAliasSection(r) => {
                for a in r {
                    push(&mut t, current, Init::Alias(a?));
                }
            }
            Payload::ComponentCanonicalSection(r) => {
                for c in r {
                    push(&mut t, current, Init::Canon(c?));
                }
            }
            Payload::ComponentExportSection(r) => {
                for e in r {
                    push(&mut t, current, Init::Export(e?));
                }
            }
            Payload::ComponentTypeSection(r) => {
                for ty in r {
                    let res = match ty? {
                        wasmparser::ComponentType::Resource { dtor, .. } => Some(dtor),
                        _ => None,
                    };
                    push(&mut t, current, Init::Type(res));
                }
            }
            Payload::CoreTypeSection(r) => {
                for ty in r {
                    ty?;
                    push(&mut t, current, Init::CoreType);
                }
            }
            Payload::CustomSection(c) => {
                if let (Some(c), wasmparser::KnownCustom::ComponentName(r)) =
                    (current, c.as_known())
                {
                    read_names(&mut t.components[c].names, r);
                }
            }
            Payload::ComponentStartSection { range, .. } => {
                // Keep validating: an invalid component must be reported as invalid.
                deferred.get_or_insert(Error::unsupported(
                    "component start functions (value imports)",
                    range.start,
                ));
            }
            _ => {}
        }
    }
    if let Some(e) = deferred {
        return Err(e);
    }
    if t.components.is_empty() {
        return Err(Error::Invalid {
            message: "empty input".into(),
            offset: 0,
        });
    }
    Ok(t)
}

fn push<'a>(t: &mut Translation<'a>, current: Option<usize>, init: Init<'a>) {
    if let Some(c) = current {
        t.components[c].inits.push(init);
    }
}

/// Collect what a `component-name` section says; stops quietly at the first malformed part.
fn read_names(names: &mut DefNames, reader: wasmparser::ComponentNameSectionReader<'_>) {
    use wasmparser::ComponentName;
    let map = |m: wasmparser::NameMap<'_>, out: &mut std::collections::HashMap<u32, String>| {
        for n in m.into_iter().map_while(|n| n.ok()) {
            out.insert(n.index, n.name.to_string());
        }
    };
    for sub in reader.into_iter().map_while(|s| s.ok()) {
        match sub {
            ComponentName::Component { name, .. } => names.component = Some(name.to_string()),
            ComponentName::Instances(m) => map(m, &mut names.instances),
            ComponentName::Components(m) => map(m, &mut names.components),
            _ => {}
        }
    }
}
