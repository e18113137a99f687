//! Splits the client's wasm module (wasm-bindgen's output) in two: the
//! **part** that only the function exported as ROOT needs (the prompt's
//! interface: its code, and its stylesheet, markup and words, the data only
//! that code addresses), and the **rest**, which every page view loads. The
//! part shares the rest's memory, tables and globals (it imports them, and
//! every function of the rest it calls, from the rest's exports: module
//! `p`), so it brings no runtime of its own.
//!
//!   palaute-split IN.wasm ROOT REST.wasm PART.wasm
//!
//! What goes where is derived from the module, not from a list of names:
//! a function or data segment goes to the part when ROOT reaches it and
//! nothing else the rest keeps does. "Reaches" follows calls, `ref.func`,
//! function-table indices (an `i32.const` naming a table slot, or a 32-bit
//! word of reached data naming one: vtables) and data addresses (an
//! `i32.const` or a load's or store's offset inside a data segment, or a
//! word of reached data pointing into one). The rest's roots are its
//! exports (but ROOT), its start function, its passive data and what its
//! globals hold. Any number
//! that looks like a reference counts as one, so a false match only keeps
//! more in the rest, which is always safe; the build links with
//! `--table-base` high and `--no-merge-data-segments` so that table
//! indices are told apart from small numbers and each static is its own
//! segment.
//!
//! In the rest, ROOT's body becomes a call through a new table slot, which
//! the part's element segment fills when it is instantiated (as it fills
//! the slots of its closures, and writes its data into memory); until then
//! those slots hold a function that traps. The loader instantiates the part
//! before the rest calls ROOT.
//!
//! `SPLIT_EXPLAIN=1` prints, for each item ROOT reaches, whether it moved
//! or the chain of references that keeps it in the rest (names from a
//! module built with them: wasm-bindgen `--keep-debug`).
mod drops;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::{bail, Context, Result};
use walrus::ir::{self, Instr, Value, Visitor, VisitorMut};
use walrus::{
    ConstExpr, DataKind, ElementItems, ElementKind, ExportItem, FunctionBuilder, FunctionId, FunctionKind, GlobalId,
    GlobalKind, ImportKind, ImportedFunction, LocalFunction, Module, TableId,
};

/// The module name under which the part imports the rest's exports.
const REST: &str = "p";
/// The name under which the rest exports its function table, added only
/// after wasm-opt has optimized it (`--export-table`): a table it exports
/// is one wasm-opt must assume anything may rewrite, which keeps it from
/// optimizing calls through it (+3 KB raw, measured).
const TABLE: &str = "t";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, module] = args.as_slice() {
        if flag == "--export-table" {
            return export_table(module);
        }
    }
    let [input, root, rest_out, part_out] = args.as_slice() else {
        bail!("usage: palaute-split IN.wasm ROOT REST.wasm PART.wasm | palaute-split --export-table REST.wasm");
    };
    let bytes = std::fs::read(input).with_context(|| format!("reading {input}"))?;
    // Both parts from the module with its drops unguarded (drops.rs).
    let mut whole = Module::from_buffer(&bytes)?;
    let unguarded = drops::unguard(&mut whole)?;
    let bytes = whole.emit_wasm();
    let mut rest = Module::from_buffer(&bytes)?;
    let plan = Plan::new(&rest, root)?;
    let mut part = Module::from_buffer(&bytes)?;
    let exports = make_rest(&mut rest, &plan)?;
    make_part(&mut part, &plan, &exports)?;
    std::fs::write(rest_out, rest.emit_wasm())?;
    std::fs::write(part_out, part.emit_wasm())?;
    eprintln!("split: {unguarded} drops of a JsValue unguarded");
    eprintln!(
        "split: {} functions and {} data segments ({} bytes) moved to the part",
        plan.funcs.len(),
        plan.data.len(),
        plan.data_bytes
    );
    Ok(())
}

/// A node of the reference graph: a function or a data segment (by index).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
enum Node {
    Func(usize),
    Data(usize),
}

/// What goes to the part, by index (the same in both parses of the module).
struct Plan {
    root: usize,
    funcs: BTreeSet<usize>,
    data: BTreeSet<usize>,
    data_bytes: usize,
    /// The function table's slots: index → function.
    slots: BTreeMap<u64, usize>,
    table: usize,
    /// Functions, tables and globals of the rest the part uses.
    needs_funcs: BTreeSet<usize>,
    needs_tables: BTreeSet<usize>,
    needs_globals: BTreeSet<usize>,
    /// The address ranges of the data the rest keeps.
    kept_ranges: Vec<(u64, u64)>,
}

/// What one function refers to.
#[derive(Default)]
struct Refs {
    funcs: Vec<FunctionId>,
    numbers: Vec<u64>,
    tables: Vec<TableId>,
    globals: Vec<GlobalId>,
}

impl<'a> Visitor<'a> for Refs {
    fn visit_instr(&mut self, instr: &'a Instr, _: &'a ir::InstrLocId) {
        match instr {
            Instr::Const(ir::Const { value: Value::I32(v) }) => self.numbers.push(u64::from(*v as u32)),
            Instr::Load(l) => self.numbers.push(l.arg.offset),
            Instr::Store(s) => self.numbers.push(s.arg.offset),
            _ => {}
        }
    }
    fn visit_function_id(&mut self, f: &FunctionId) {
        self.funcs.push(*f);
    }
    fn visit_table_id(&mut self, t: &TableId) {
        self.tables.push(*t);
    }
    fn visit_global_id(&mut self, g: &GlobalId) {
        self.globals.push(*g);
    }
}

fn refs(f: &LocalFunction) -> Refs {
    let mut refs = Refs::default();
    ir::dfs_in_order(&mut refs, f, f.entry_block());
    refs
}

fn offset(expr: &ConstExpr) -> Option<u64> {
    match expr {
        ConstExpr::Value(Value::I32(v)) => Some(u64::from(*v as u32)),
        _ => None,
    }
}

impl Plan {
    fn new(m: &Module, root_name: &str) -> Result<Plan> {
        let root = m.exports.get_func(root_name).with_context(|| format!("no exported function {root_name}"))?.index();
        let table = m.tables.main_function_table()?.context("no function table")?;
        let mut slots = BTreeMap::new();
        for e in m.elements.iter() {
            let ElementKind::Active { table: t, offset: at } = &e.kind else { continue };
            if *t != table {
                continue;
            }
            let at = offset(at).context("element segment at a computed offset")?;
            let funcs: Vec<Option<FunctionId>> = match &e.items {
                ElementItems::Functions(fs) => fs.iter().map(|f| Some(*f)).collect(),
                ElementItems::Expressions(_, es) => {
                    es.iter().map(|e| if let ConstExpr::RefFunc(f) = e { Some(*f) } else { None }).collect()
                }
            };
            for (i, f) in funcs.into_iter().enumerate() {
                if let Some(f) = f {
                    slots.insert(at + i as u64, f.index());
                }
            }
        }
        // Active data segments, by address.
        let mut ranges = Vec::new();
        let mut passive = Vec::new();
        for d in m.data.iter() {
            match &d.kind {
                DataKind::Active { offset: at, .. } => {
                    let at = offset(at).context("data segment at a computed offset")?;
                    ranges.push((at, at + d.value.len() as u64, d.id().index()));
                }
                DataKind::Passive => passive.push(d.id().index()),
            }
        }
        ranges.sort();
        let lowest = ranges.first().map_or(u64::MAX, |r| r.0);
        let highest = ranges.last().map_or(0, |r| r.1);
        // The targets of a number: a table slot, data segments around it.
        let targets = |n: u64, out: &mut Vec<Node>| {
            if let Some(f) = slots.get(&n) {
                out.push(Node::Func(*f));
            }
            if n < lowest || n > highest {
                return;
            }
            // The segment holding address `n`; or ending at `n` when none
            // starts there (a pointer one past the end of an array).
            let first = ranges.partition_point(|r| r.1 < n);
            let (mut holding, mut ending) = (None, None);
            for r in &ranges[first..] {
                if r.0 > n {
                    break;
                }
                if n < r.1 {
                    holding = Some(r.2);
                } else if n == r.1 {
                    ending = Some(r.2);
                }
            }
            if let Some(d) = holding.or(ending) {
                out.push(Node::Data(d));
            }
        };
        // The graph.
        let mut edges: HashMap<Node, Vec<Node>> = HashMap::new();
        let mut uses: HashMap<usize, Refs> = HashMap::new();
        for (id, f) in m.funcs.iter_local() {
            let r = refs(f);
            let mut out: Vec<Node> = r.funcs.iter().map(|f| Node::Func(f.index())).collect();
            for n in &r.numbers {
                targets(*n, &mut out);
            }
            edges.insert(Node::Func(id.index()), out);
            uses.insert(id.index(), r);
        }
        for d in m.data.iter() {
            let mut out = Vec::new();
            // Pointers and table indices in data are 4-byte aligned in memory.
            let at = match &d.kind {
                DataKind::Active { offset: at, .. } => offset(at).unwrap_or(0),
                DataKind::Passive => 0,
            };
            let skip = ((4 - at % 4) % 4) as usize;
            for word in d.value.get(skip..).unwrap_or_default().chunks_exact(4) {
                targets(u64::from(u32::from_le_bytes([word[0], word[1], word[2], word[3]])), &mut out);
            }
            edges.insert(Node::Data(d.id().index()), out);
        }
        let reach = |starts: Vec<Node>, stop: Option<Node>| {
            let mut seen = BTreeMap::new();
            let mut stack: Vec<(Node, Option<Node>)> = starts.into_iter().map(|n| (n, None)).collect();
            while let Some((n, from)) = stack.pop() {
                if Some(n) == stop || seen.contains_key(&n) {
                    continue;
                }
                seen.insert(n, from);
                if let Some(out) = edges.get(&n) {
                    stack.extend(out.iter().map(|o| (*o, Some(n))));
                }
            }
            seen
        };
        let mut rest_roots: Vec<Node> = Vec::new();
        for e in m.exports.iter() {
            if let ExportItem::Function(f) = e.item {
                if f.index() != root {
                    rest_roots.push(Node::Func(f.index()));
                }
            }
        }
        if let Some(s) = m.start {
            rest_roots.push(Node::Func(s.index()));
        }
        rest_roots.extend(passive.iter().map(|d| Node::Data(*d)));
        // Globals: a function they hold, or the data their number points
        // into (wasm-bindgen's `__abort_handler` is the address of a static
        // its glue reads).
        for g in m.globals.iter() {
            match &g.kind {
                GlobalKind::Local(ConstExpr::RefFunc(f)) => rest_roots.push(Node::Func(f.index())),
                GlobalKind::Local(ConstExpr::Value(Value::I32(v))) => targets(u64::from(*v as u32), &mut rest_roots),
                _ => {}
            }
        }
        let kept = reach(rest_roots, Some(Node::Func(root)));
        let moved = reach(vec![Node::Func(root)], None);
        let name = |n: Node| match n {
            Node::Func(i) => {
                m.funcs.iter().find(|f| f.id().index() == i).and_then(|f| f.name.clone()).unwrap_or(format!("func {i}"))
            }
            Node::Data(i) => m
                .data
                .iter()
                .find(|d| d.id().index() == i)
                .map(|d| format!("data {:?} {}", d.name, d.value.len()))
                .unwrap_or_default(),
        };
        if std::env::var_os("SPLIT_EXPLAIN").is_some() {
            for n in moved.keys() {
                if kept.contains_key(n) {
                    let mut chain = vec![name(*n)];
                    let mut at = *n;
                    while let Some(Some(from)) = kept.get(&at) {
                        chain.push(name(*from));
                        at = *from;
                        if chain.len() > 8 {
                            break;
                        }
                    }
                    eprintln!("kept: {}", chain.join("  <-  "));
                } else {
                    eprintln!("moved: {}", name(*n));
                }
            }
        }
        let local = |i: usize| {
            m.funcs.iter().find(|f| f.id().index() == i).is_some_and(|f| matches!(f.kind, FunctionKind::Local(_)))
        };
        let mut funcs = BTreeSet::new();
        let mut data = BTreeSet::new();
        for n in moved.keys().filter(|n| !kept.contains_key(n)) {
            match *n {
                Node::Func(f) if local(f) => {
                    funcs.insert(f);
                }
                Node::Func(_) => {}
                Node::Data(d) => {
                    data.insert(d);
                }
            }
        }
        if !funcs.contains(&root) {
            bail!("{root_name} is needed by the rest of the module");
        }
        let data_bytes = m.data.iter().filter(|d| data.contains(&d.id().index())).map(|d| d.value.len()).sum();
        let mut needs_funcs = BTreeSet::new();
        let mut needs_tables = BTreeSet::from([table.index()]);
        let mut needs_globals = BTreeSet::new();
        for f in &funcs {
            let r = &uses[f];
            needs_funcs.extend(r.funcs.iter().map(|g| g.index()).filter(|g| !funcs.contains(g)));
            needs_tables.extend(r.tables.iter().map(|t| t.index()));
            needs_globals.extend(r.globals.iter().map(|g| g.index()));
        }
        let kept_ranges = ranges.iter().filter(|r| !data.contains(&r.2)).map(|r| (r.0, r.1)).collect();
        Ok(Plan {
            root,
            funcs,
            data,
            data_bytes,
            slots,
            table: table.index(),
            needs_funcs,
            needs_tables,
            needs_globals,
            kept_ranges,
        })
    }
}

/// The names under which the rest exports what the part imports.
struct Exports {
    funcs: BTreeMap<usize, String>,
    tables: BTreeMap<usize, String>,
    globals: BTreeMap<usize, String>,
    memory: String,
    /// The new table slot through which the rest calls ROOT.
    slot: u64,
}

/// A short export name not yet taken: one character while they last.
fn fresh(m: &Module, n: &mut usize) -> String {
    const ONE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrsuvwxyz0123456789_$";
    loop {
        let name = match ONE.get(*n) {
            Some(c) => char::from(*c).to_string(),
            None => format!("${:x}", *n - ONE.len()),
        };
        *n += 1;
        if name != TABLE && m.exports.iter().all(|e| e.name != name) {
            return name;
        }
    }
}

/// The name `item` is exported under: its export's, else a new one's
/// (`n`: the fresh names given so far).
fn exported(m: &mut Module, n: &mut usize, item: ExportItem) -> String {
    let same = |e: &ExportItem| match (e, &item) {
        (ExportItem::Function(a), ExportItem::Function(b)) => a == b,
        (ExportItem::Table(a), ExportItem::Table(b)) => a == b,
        (ExportItem::Memory(a), ExportItem::Memory(b)) => a == b,
        (ExportItem::Global(a), ExportItem::Global(b)) => a == b,
        _ => false,
    };
    if let Some(e) = m.exports.iter().find(|e| same(&e.item)) {
        return e.name.clone();
    }
    let name = fresh(m, n);
    m.exports.add(&name, item);
    name
}

fn make_rest(m: &mut Module, plan: &Plan) -> Result<Exports> {
    let func = |m: &Module, i: usize| m.funcs.iter().map(|f| f.id()).find(|f| f.index() == i).expect("function");
    let root = func(m, plan.root);
    let table = m.tables.iter().map(|t| t.id()).find(|t| t.index() == plan.table).expect("table");
    // ROOT's new slot.
    let slot = {
        let t = m.tables.get_mut(table);
        let slot = t.initial;
        t.initial += 1;
        if let Some(max) = t.maximum.as_mut() {
            *max = (*max).max(t.initial);
        }
        slot
    };
    // What the part's slots hold until it is there: a function of the same
    // type that traps. The same type, because wasm-opt is told that the
    // table's first contents are never replaced (so that it optimizes calls
    // through it as if the table were the module's own): a slot's type
    // stays what the rest was optimized for.
    let mut traps: HashMap<walrus::TypeId, FunctionId> = HashMap::new();
    let mut trap_of = |m: &mut Module, f: FunctionId| {
        let ty = m.funcs.get(f).ty();
        *traps.entry(ty).or_insert_with(|| {
            let t = m.types.get(ty).clone();
            let mut b = FunctionBuilder::new(&mut m.types, t.params(), t.results());
            b.func_body().unreachable();
            let args = t.params().iter().map(|p| m.locals.add(*p)).collect();
            b.finish(args, &mut m.funcs)
        })
    };
    // ROOT becomes a call through its slot, whose index is read from a
    // mutable exported global: so wasm-opt cannot turn it into a call of
    // what the slot holds before the part is there.
    let slot_global = m.globals.add_local(walrus::ValType::I32, true, false, ConstExpr::Value(Value::I32(slot as i32)));
    let ty = m.types.get(m.funcs.get(root).ty()).clone();
    let mut b = FunctionBuilder::new(&mut m.types, ty.params(), ty.results());
    let args: Vec<_> = ty.params().iter().map(|t| m.locals.add(*t)).collect();
    {
        let mut body = b.func_body();
        for a in &args {
            body.local_get(*a);
        }
        body.global_get(slot_global).call_indirect(m.funcs.get(root).ty(), table);
    }
    let trampoline = b.finish(args, &mut m.funcs);
    struct Redirect(FunctionId, FunctionId);
    impl VisitorMut for Redirect {
        fn visit_function_id_mut(&mut self, f: &mut FunctionId) {
            if *f == self.0 {
                *f = self.1;
            }
        }
    }
    for (id, f) in m.funcs.iter_local_mut() {
        if !plan.funcs.contains(&id.index()) {
            let entry = f.entry_block();
            ir::dfs_pre_order_mut(&mut Redirect(root, trampoline), f, entry);
        }
    }
    let root_export = m.exports.iter().find(|e| matches!(e.item, ExportItem::Function(f) if f == root)).map(|e| e.id());
    if let Some(e) = root_export {
        m.exports.delete(e);
    }
    // The part's slots trap until it fills them.
    let ids: Vec<walrus::ElementId> = m.elements.iter().map(|e| e.id()).collect();
    for id in ids {
        let mut items = std::mem::replace(&mut m.elements.get_mut(id).items, ElementItems::Functions(Vec::new()));
        match &mut items {
            ElementItems::Functions(fs) => {
                for f in fs.iter_mut() {
                    if plan.funcs.contains(&f.index()) {
                        *f = trap_of(m, *f);
                    }
                }
            }
            ElementItems::Expressions(_, es) => {
                for x in es.iter_mut() {
                    if let ConstExpr::RefFunc(f) = x {
                        if plan.funcs.contains(&f.index()) {
                            *x = ConstExpr::RefFunc(trap_of(m, *f));
                        }
                    }
                }
            }
        }
        m.elements.get_mut(id).items = items;
    }
    let root_trap = trap_of(m, root);
    m.elements.add(
        ElementKind::Active { table, offset: ConstExpr::Value(Value::I32(slot as i32)) },
        ElementItems::Functions(vec![root_trap]),
    );
    // The part's data leaves.
    let moved: Vec<_> = m.data.iter().map(|d| d.id()).filter(|d| plan.data.contains(&d.index())).collect();
    for d in moved {
        for mem in m.memories.iter_mut() {
            mem.data_segments.remove(&d);
        }
        m.data.delete(d);
    }
    // The rest's data in one segment, the holes zero (wasm-opt splits it
    // again where long runs of zeros make that smaller).
    merge_data(m, |_, _| true);
    // What the part imports, exported.
    let mut n = 0;
    let mut exports = Exports {
        funcs: BTreeMap::new(),
        tables: BTreeMap::new(),
        globals: BTreeMap::new(),
        memory: String::new(),
        slot,
    };
    for i in &plan.needs_funcs {
        let name = exported(m, &mut n, ExportItem::Function(func(m, *i)));
        exports.funcs.insert(*i, name);
    }
    if m.exports.iter().any(|e| e.name == TABLE) {
        bail!("the module already exports {TABLE}");
    }
    for i in &plan.needs_tables {
        let t = m.tables.iter().map(|t| t.id()).find(|t| t.index() == *i).expect("table");
        let name = if *i == plan.table { TABLE.into() } else { exported(m, &mut n, ExportItem::Table(t)) };
        exports.tables.insert(*i, name);
    }
    for i in &plan.needs_globals {
        let g = m.globals.iter().map(|g| g.id()).find(|g| g.index() == *i).expect("global");
        let name = exported(m, &mut n, ExportItem::Global(g));
        exports.globals.insert(*i, name);
    }
    let name = fresh(m, &mut n);
    m.exports.add(&name, slot_global);
    let memory = m.memories.iter().next().context("no memory")?.id();
    exports.memory = exported(m, &mut n, ExportItem::Memory(memory));
    walrus::passes::gc::run(m);
    Ok(exports)
}

fn make_part(m: &mut Module, plan: &Plan, exports: &Exports) -> Result<()> {
    let ids: Vec<FunctionId> = m.funcs.iter().map(|f| f.id()).collect();
    let func = |i: usize| *ids.iter().find(|f| f.index() == i).expect("function");
    let all: Vec<_> = m.exports.iter().map(|e| e.id()).collect();
    for e in all {
        m.exports.delete(e);
    }
    m.start = None;
    let elements: Vec<_> = m.elements.iter().map(|e| e.id()).collect();
    for e in elements {
        m.elements.delete(e);
    }
    for t in m.tables.iter_mut() {
        t.elem_segments.clear();
    }
    // The rest's functions the part calls: imports from the rest.
    for (i, name) in &exports.funcs {
        let f = func(*i);
        let ty = m.funcs.get(f).ty();
        match &m.funcs.get(f).kind {
            FunctionKind::Import(imp) => {
                let imp = m.imports.get_mut(imp.import);
                imp.module = REST.into();
                imp.name = name.clone();
            }
            _ => {
                let import = m.imports.add(REST, name, ImportKind::Function(f));
                m.funcs.get_mut(f).kind = FunctionKind::Import(ImportedFunction { import, ty });
            }
        }
    }
    // Memory, tables, globals: the rest's.
    let memory = m.memories.iter().next().context("no memory")?.id();
    let old = m.memories.get(memory).import;
    let import = m.imports.add(REST, &exports.memory, ImportKind::Memory(memory));
    m.memories.get_mut(memory).import = Some(import);
    if let Some(old) = old {
        m.imports.delete(old);
    }
    for t in m.tables.iter().map(|t| t.id()).collect::<Vec<_>>() {
        if let Some(name) = exports.tables.get(&t.index()) {
            let old = m.tables.get(t).import;
            let import = m.imports.add(REST, name, ImportKind::Table(t));
            let table = m.tables.get_mut(t);
            table.import = Some(import);
            table.init = None;
            // Whatever size the rest's table has by then, with ROOT's slot.
            table.maximum = None;
            if t.index() == plan.table {
                table.initial = exports.slot + 1;
            }
            if let Some(old) = old {
                m.imports.delete(old);
            }
        }
    }
    for g in m.globals.iter().map(|g| g.id()).collect::<Vec<_>>() {
        if let Some(name) = exports.globals.get(&g.index()) {
            let old = match m.globals.get(g).kind {
                GlobalKind::Import(i) => Some(i),
                GlobalKind::Local(_) => None,
            };
            let import = m.imports.add(REST, name, ImportKind::Global(g));
            m.globals.get_mut(g).kind = GlobalKind::Import(import);
            if let Some(old) = old {
                m.imports.delete(old);
            }
        }
    }
    // Only the part's data, written where it was.
    let gone: Vec<_> = m.data.iter().map(|d| d.id()).filter(|d| !plan.data.contains(&d.index())).collect();
    for d in gone {
        m.memories.get_mut(memory).data_segments.remove(&d);
        m.data.delete(d);
    }
    // Neighbouring segments in one, where the bytes between them are no
    // one's (padding): the rest's data there must not be overwritten.
    merge_data(m, |from, to| plan.kept_ranges.iter().all(|r| r.1 <= from || r.0 >= to));
    // The part's functions into their slots, and ROOT into its new one.
    let table = m.tables.iter().map(|t| t.id()).find(|t| t.index() == plan.table).expect("table");
    let mut slots: Vec<(u64, FunctionId)> =
        plan.slots.iter().filter(|(_, f)| plan.funcs.contains(f)).map(|(at, f)| (*at, func(*f))).collect();
    slots.push((exports.slot, func(plan.root)));
    slots.sort_by_key(|s| s.0);
    let mut runs: Vec<(u64, Vec<FunctionId>)> = Vec::new();
    for (at, f) in slots {
        match runs.last_mut() {
            Some((start, fs)) if *start + fs.len() as u64 == at => fs.push(f),
            _ => runs.push((at, vec![f])),
        }
    }
    for (at, fs) in runs {
        m.elements.add(
            ElementKind::Active { table, offset: ConstExpr::Value(Value::I32(at as i32)) },
            ElementItems::Functions(fs),
        );
    }
    // The rest's own functions go, unreferenced once its exports and
    // elements are gone, with whatever only they used.
    walrus::passes::gc::run(m);
    Ok(())
}

/// Merges the module's active data segments, in address order, with each
/// next one when `may_fill(from, to)` allows writing zeros over the bytes
/// between them.
fn merge_data(m: &mut Module, may_fill: impl Fn(u64, u64) -> bool) {
    let Some(memory) = m.memories.iter().next().map(|m| m.id()) else { return };
    let mut segments: Vec<(u64, walrus::DataId)> = m
        .data
        .iter()
        .filter_map(|d| match &d.kind {
            DataKind::Active { offset: at, .. } => offset(at).map(|at| (at, d.id())),
            DataKind::Passive => None,
        })
        .collect();
    segments.sort();
    let mut merged: Vec<(u64, Vec<u8>)> = Vec::new();
    for (at, id) in segments {
        let value = std::mem::take(&mut m.data.get_mut(id).value);
        m.memories.get_mut(memory).data_segments.remove(&id);
        m.data.delete(id);
        match merged.last_mut() {
            Some((start, bytes)) if *start + bytes.len() as u64 <= at && may_fill(*start + bytes.len() as u64, at) => {
                bytes.resize((at - *start) as usize, 0);
                bytes.extend_from_slice(&value);
            }
            _ => merged.push((at, value)),
        }
    }
    for (at, bytes) in merged {
        let id = m.data.add(DataKind::Active { memory, offset: ConstExpr::Value(Value::I32(at as i32)) }, bytes);
        m.memories.get_mut(memory).data_segments.insert(id);
    }
}

/// Exports the rest's function table as [`TABLE`], once wasm-opt is done:
/// one entry added to the export section, every other byte as wasm-opt
/// left them (a module re-encoded by walrus was 120 B brotli larger).
fn export_table(path: &str) -> Result<()> {
    let bytes = std::fs::read(path)?;
    let out = with_table_export(&bytes)?;
    std::fs::write(path, out)?;
    Ok(())
}

fn leb(bytes: &[u8], at: &mut usize) -> Result<u64> {
    let mut value = 0u64;
    let mut shift = 0;
    loop {
        let byte = *bytes.get(*at).context("truncated module")?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
        shift += 7;
    }
}

fn put_leb(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn with_table_export(bytes: &[u8]) -> Result<Vec<u8>> {
    // Sections: (id, body start, body end).
    let mut sections = Vec::new();
    let mut at = 8;
    while at < bytes.len() {
        let id = bytes[at];
        at += 1;
        let size = leb(bytes, &mut at)? as usize;
        sections.push((id, at, at + size));
        at += size;
    }
    let count_of = |id: u8| -> Result<u64> {
        match sections.iter().find(|s| s.0 == id) {
            Some(s) => leb(bytes, &mut s.1.clone()),
            None => Ok(0),
        }
    };
    // Imported tables come first in the table index space.
    let mut imported_tables = 0;
    if let Some(&(_, start, _)) = sections.iter().find(|s| s.0 == 2) {
        let mut at = start;
        for _ in 0..leb(bytes, &mut at)? {
            for _ in 0..2 {
                let n = leb(bytes, &mut at)? as usize;
                at += n;
            }
            let kind = bytes[at];
            at += 1;
            match kind {
                0 => {
                    leb(bytes, &mut at)?;
                }
                1 | 2 => {
                    if kind == 1 {
                        imported_tables += 1;
                        at += 1;
                    }
                    let flags = bytes[at];
                    at += 1;
                    leb(bytes, &mut at)?;
                    if flags & 1 != 0 {
                        leb(bytes, &mut at)?;
                    }
                }
                3 => at += 2,
                _ => bail!("import kind {kind}"),
            }
        }
    }
    let &(_, start, _) = sections.iter().find(|s| s.0 == 4).context("no table section")?;
    let mut at = start;
    let mut table = None;
    for i in 0..leb(bytes, &mut at)? {
        let ty = bytes[at];
        at += 1;
        if ty == 0x70 {
            table.get_or_insert(imported_tables + i);
        }
        let flags = bytes[at];
        at += 1;
        leb(bytes, &mut at)?;
        if flags & 1 != 0 {
            leb(bytes, &mut at)?;
        }
    }
    let table = table.context("no function table")?;
    let exports = count_of(7)?;
    let mut body = Vec::new();
    put_leb(&mut body, exports + 1);
    if let Some(&(_, start, end)) = sections.iter().find(|s| s.0 == 7) {
        let mut at = start;
        leb(bytes, &mut at)?;
        body.extend_from_slice(&bytes[at..end]);
    }
    put_leb(&mut body, TABLE.len() as u64);
    body.extend_from_slice(TABLE.as_bytes());
    body.push(1);
    put_leb(&mut body, table);
    let mut out = bytes[..8].to_vec();
    let mut placed = false;
    for &(id, start, end) in &sections {
        // The export section's place: after the globals (6), before the start (8).
        if !placed && (id == 7 || (id != 0 && id > 7)) {
            out.push(7);
            put_leb(&mut out, body.len() as u64);
            out.extend_from_slice(&body);
            placed = true;
        }
        if id == 7 {
            continue;
        }
        out.push(id);
        put_leb(&mut out, (end - start) as u64);
        out.extend_from_slice(&bytes[start..end]);
    }
    if !placed {
        out.push(7);
        put_leb(&mut out, body.len() as u64);
        out.extend_from_slice(&body);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use walrus::{FunctionId, RefType, ValType};

    /// A module in the client's shape: ROOT (`prompt`) calls `only` (which
    /// reads the datum at `ONLY`) and `shared`; the export `start` calls
    /// `shared`, which reads the datum at `SHARED`; `only`'s function
    /// pointer (a table slot) is handed out only by ROOT.
    const ONLY: i32 = 1_048_576;
    const SHARED: i32 = 1_048_592;
    const BASE: i32 = 3517;

    fn module() -> Vec<u8> {
        let mut m = Module::default();
        let memory = m.memories.add_local(false, false, 17, None, None);
        m.exports.add("memory", memory);
        m.data
            .add(DataKind::Active { memory, offset: ConstExpr::Value(Value::I32(ONLY)) }, b"only the prompt".to_vec());
        m.data.add(DataKind::Active { memory, offset: ConstExpr::Value(Value::I32(SHARED)) }, b"both".to_vec());
        let reader = |m: &mut Module, at: i32| -> FunctionId {
            let mut b = FunctionBuilder::new(&mut m.types, &[], &[ValType::I32]);
            b.func_body().i32_const(at).load(
                memory,
                ir::LoadKind::I32 { atomic: false },
                ir::MemArg { align: 4, offset: 0 },
            );
            b.finish(vec![], &mut m.funcs)
        };
        let only = reader(&mut m, ONLY);
        let shared = reader(&mut m, SHARED);
        let table = m.tables.add_local(false, (BASE + 1) as u64, Some((BASE + 1) as u64), RefType::FUNCREF);
        m.elements.add(
            ElementKind::Active { table, offset: ConstExpr::Value(Value::I32(BASE)) },
            ElementItems::Functions(vec![only]),
        );
        let mut b = FunctionBuilder::new(&mut m.types, &[], &[ValType::I32]);
        b.func_body().call(only).drop().i32_const(BASE).drop().call(shared);
        let root = b.finish(vec![], &mut m.funcs);
        m.exports.add("prompt", root);
        let mut b = FunctionBuilder::new(&mut m.types, &[], &[ValType::I32]);
        b.func_body().call(shared).drop().call(root);
        let start = b.finish(vec![], &mut m.funcs);
        m.exports.add("start", start);
        m.emit_wasm()
    }

    #[test]
    fn what_only_the_root_reaches_moves_and_the_rest_calls_it_through_the_table() {
        let bytes = module();
        let mut rest = Module::from_buffer(&bytes).unwrap();
        let plan = Plan::new(&rest, "prompt").unwrap();
        // ROOT and `only` move; `shared` and `start` stay; the datum only
        // `only` reads moves, the shared one stays.
        assert_eq!(plan.funcs.len(), 2);
        assert_eq!(plan.data.len(), 1);
        assert_eq!(plan.data_bytes, b"only the prompt".len());
        let mut part = Module::from_buffer(&bytes).unwrap();
        let exports = make_rest(&mut rest, &plan).unwrap();
        make_part(&mut part, &plan, &exports).unwrap();
        // The rest no longer exports ROOT; it exports `shared` for the part.
        assert!(rest.exports.iter().all(|e| e.name != "prompt"));
        let shared_name = &exports.funcs.values().next().unwrap()[..];
        assert!(rest.exports.iter().any(|e| e.name == shared_name));
        // The rest's data no longer holds the part's text; the part's does.
        let text = |m: &Module| m.data.iter().flat_map(|d| d.value.clone()).collect::<Vec<u8>>();
        assert!(!text(&rest).windows(15).any(|w| w == b"only the prompt"));
        assert!(text(&part).windows(15).any(|w| w == b"only the prompt"));
        // The part imports memory, table and `shared` from `p`, exports
        // nothing, and fills `only`'s slot and ROOT's new one.
        let imports: Vec<_> = part.imports.iter().map(|i| (i.module.clone(), i.name.clone())).collect();
        assert!(imports.iter().all(|(module, _)| module == REST), "{imports:?}");
        assert!(imports.iter().any(|(_, name)| name == TABLE));
        assert!(imports.iter().any(|(_, name)| name == shared_name));
        assert_eq!(part.exports.iter().count(), 0);
        let slots: Vec<u64> = part
            .elements
            .iter()
            .flat_map(|e| match (&e.kind, &e.items) {
                (ElementKind::Active { offset: at, .. }, ElementItems::Functions(fs)) => {
                    let at = offset(at).unwrap();
                    (at..at + fs.len() as u64).collect()
                }
                _ => vec![],
            })
            .collect();
        assert!(slots.contains(&(BASE as u64)) && slots.contains(&exports.slot), "{slots:?}");
        // Both are valid modules once written.
        Module::from_buffer(&rest.emit_wasm()).unwrap();
        Module::from_buffer(&part.emit_wasm()).unwrap();
    }

    #[test]
    fn a_function_whose_pointer_the_rest_hands_out_stays() {
        let mut m = Module::from_buffer(&module()).unwrap();
        // The rest names `only`'s table slot: it may call `only` any time.
        let mut b = FunctionBuilder::new(&mut m.types, &[], &[ValType::I32]);
        b.func_body().i32_const(BASE);
        let hands_out = b.finish(vec![], &mut m.funcs);
        m.exports.add("pointer", hands_out);
        let m = Module::from_buffer(&m.emit_wasm()).unwrap();
        let plan = Plan::new(&m, "prompt").unwrap();
        // Only ROOT moves; `only`, and the datum it reads, stay.
        assert_eq!(plan.funcs.len(), 1);
        assert!(plan.data.is_empty());
    }

    #[test]
    fn the_table_export_is_added_and_nothing_else_changes() {
        let bytes = module();
        let out = with_table_export(&bytes).unwrap();
        let before = Module::from_buffer(&bytes).unwrap();
        let after = Module::from_buffer(&out).unwrap();
        let table = after.tables.main_function_table().unwrap().unwrap();
        assert!(after.exports.iter().any(|e| e.name == TABLE && matches!(e.item, ExportItem::Table(t) if t == table)));
        assert_eq!(after.exports.iter().count(), before.exports.iter().count() + 1);
        // Only the export section grew: by the entry `t`, table, index.
        assert_eq!(out.len(), bytes.len() + 1 + TABLE.len() + 2);
    }
}
