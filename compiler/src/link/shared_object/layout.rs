//! Phase 2 of writing a shared object: where everything goes. File offsets equal addresses;
//! the dynamic tables come first, then three `PT_LOAD` segments (read-only, code, writable with
//! `.dynamic` at its end), then the non-loaded symbol tables and section headers. Then the
//! relocations are resolved against those addresses.

use super::read::{Class, Input};
use super::{align, elf_hash, put64, StrTab, DYNAMIC_SIZE, EHDR, PAGE, PHDR, RELA, SYM};
use object::{elf, RelocationTarget};

/// Program headers: PT_LOAD R, RX, RW, PT_DYNAMIC, PT_GNU_STACK.
pub(super) const PHNUM: u64 = 5;

/// Section header indices: null, .hash, .dynsym, .dynstr, [.rela.dyn], the loaded sections
/// (read-only, code, writable), .dynamic, the NOBITS ones, .symtab, .strtab, .shstrtab.
pub(super) struct Indices {
    pub(super) hash: u32,
    pub(super) dynsym: u32,
    pub(super) dynstr: u32,
    /// 0 without relocations.
    pub(super) rela: u32,
    pub(super) dynamic: u32,
    pub(super) symtab: u32,
    pub(super) strtab: u32,
    pub(super) shstrtab: u32,
    /// Number of section headers, the null one included.
    pub(super) count: u32,
}

/// Where everything goes.
pub(super) struct Layout {
    /// Indices into `Input::syms` of the exported symbols (`.dynsym` after its null entry).
    pub(super) exported: Vec<usize>,
    pub(super) dynstr: StrTab,
    /// `.dynstr` offsets of the exported symbols' names.
    pub(super) dyn_names: Vec<u32>,
    /// `.dynsym` entries, the null one included.
    pub(super) ndyn: u64,
    pub(super) sh: Indices,
    pub(super) nbucket: u64,
    pub(super) hash_at: u64,
    pub(super) hash_size: u64,
    pub(super) dynsym_at: u64,
    pub(super) dynstr_at: u64,
    pub(super) rela_at: u64,
    pub(super) rela_size: u64,
    /// Per class: (start, end in the file, end in memory).
    pub(super) seg: [(u64, u64, u64); 3],
    pub(super) dynamic_at: u64,
    /// End of the loaded part of the file.
    pub(super) load_end: u64,
}

impl Layout {
    /// Whether there are dynamic relocations.
    pub(super) fn has_rela(&self) -> bool {
        self.sh.rela != 0
    }
}

/// Lay `input` out: gives each placed section its header index and address.
pub(super) fn plan(input: &mut Input) -> Layout {
    let syms = &input.syms;
    // Exported: global symbols of default or protected visibility.
    let exported: Vec<usize> = (0..syms.len())
        .filter(|&i| {
            let vis = syms[i].other & 3;
            syms[i].global && (vis == elf::STV_DEFAULT || vis == elf::STV_PROTECTED)
        })
        .collect();
    let mut dynstr = StrTab::new();
    let dyn_names: Vec<u32> = exported
        .iter()
        .map(|&i| dynstr.add(&syms[i].name))
        .collect();
    let ndyn = exported.len() as u64 + 1;
    let sh = indices(input);

    let nbucket = (ndyn / 2).max(1);
    let hash_at = align(EHDR + PHDR * PHNUM, 8);
    let hash_size = 4 * (2 + nbucket + ndyn);
    let dynsym_at = align(hash_at + hash_size, 8);
    let dynstr_at = dynsym_at + SYM * ndyn;
    let rela_at = align(dynstr_at + dynstr.0.len() as u64, 8);
    let rela_size = RELA * input.pending.len() as u64;
    let (seg, dynamic_at) = segments(input, rela_at + rela_size);
    Layout {
        exported,
        dynstr,
        dyn_names,
        ndyn,
        sh,
        nbucket,
        hash_at,
        hash_size,
        dynsym_at,
        dynstr_at,
        rela_at,
        rela_size,
        load_end: seg[2].1,
        seg,
        dynamic_at,
    }
}

/// The section header indices; `placed` is sorted by (class, nobits), and only writable
/// sections are NOBITS.
fn indices(input: &mut Input) -> Indices {
    let has_rela = !input.pending.is_empty();
    let rela = if has_rela { 4 } else { 0 };
    let mut next = if has_rela { 5 } else { 4 };
    let mut dynamic = 0;
    for p in input.placed.iter_mut() {
        if p.nobits && dynamic == 0 {
            dynamic = next;
            next += 1;
        }
        p.shndx = next;
        next += 1;
    }
    if dynamic == 0 {
        dynamic = next;
        next += 1;
    }
    Indices {
        hash: 1,
        dynsym: 2,
        dynstr: 3,
        rela,
        dynamic,
        symtab: next,
        strtab: next + 1,
        shstrtab: next + 2,
        count: next + 3,
    }
}

/// Addresses of the placed sections from `at` on, segment by segment; the segments and where
/// `.dynamic` goes.
fn segments(input: &mut Input, mut at: u64) -> ([(u64, u64, u64); 3], u64) {
    let mut seg = [(0u64, 0u64, 0u64); 3];
    let mut dynamic_at = 0;
    for class in [Class::Read, Class::Exec, Class::Write] {
        if class != Class::Read {
            at = align(at, PAGE);
        }
        let start = at;
        for p in input
            .placed
            .iter_mut()
            .filter(|p| p.class == class && !p.nobits)
        {
            at = align(at, p.align);
            p.addr = at;
            at += p.size;
        }
        if class == Class::Write {
            dynamic_at = align(at, 8);
            at = dynamic_at + DYNAMIC_SIZE;
        }
        let file_end = at;
        for p in input
            .placed
            .iter_mut()
            .filter(|p| p.class == class && p.nobits)
        {
            at = align(at, p.align);
            p.addr = at;
            at += p.size;
        }
        seg[class as usize] = (start, file_end, at);
    }
    (seg, dynamic_at)
}

/// Resolve the relocations into `R_X86_64_RELATIVE` ones (the `.rela.dyn` bytes), and write
/// their values in place too; `None` if one points nowhere.
pub(super) fn relocate(input: &mut Input, layout: &Layout) -> Option<Vec<u8>> {
    let placed = &input.placed;
    let address_of = |t: RelocationTarget| -> Option<u64> {
        match t {
            RelocationTarget::Symbol(i) => {
                if let Some(&k) = input.section_symbols.get(&i.0) {
                    return Some(placed[k].addr);
                }
                let s = &input.syms[*input.by_index.get(&i.0)?];
                let base = s.section.map_or(0, |k| placed[k].addr);
                Some(base + s.value)
            }
            RelocationTarget::Section(i) => Some(placed.iter().find(|p| p.input == i)?.addr),
            _ => None,
        }
    };
    let values: Vec<u64> = input
        .pending
        .iter()
        .map(|r| address_of(r.target).map(|v| v.wrapping_add_signed(r.addend)))
        .collect::<Option<_>>()?;
    let mut rela = Vec::with_capacity(layout.rela_size as usize);
    for (r, &value) in input.pending.iter().zip(&values) {
        let p = &mut input.placed[r.section];
        let o = usize::try_from(r.offset).ok()?;
        p.data
            .get_mut(o..o.checked_add(8)?)?
            .copy_from_slice(&value.to_le_bytes());
        put64(&mut rela, p.addr + r.offset);
        put64(&mut rela, u64::from(elf::R_X86_64_RELATIVE));
        put64(&mut rela, value);
    }
    Some(rela)
}

/// `.hash`: buckets and chains over `.dynsym`.
pub(super) fn hash_table(input: &Input, layout: &Layout) -> (Vec<u32>, Vec<u32>) {
    let mut buckets = vec![0u32; layout.nbucket as usize];
    let mut chains = vec![0u32; layout.ndyn as usize];
    for (k, &i) in layout.exported.iter().enumerate() {
        let sym = k as u32 + 1;
        let b = (elf_hash(&input.syms[i].name) as u64 % layout.nbucket) as usize;
        chains[sym as usize] = buckets[b];
        buckets[b] = sym;
    }
    (buckets, chains)
}
