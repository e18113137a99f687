//! Drops of a `JsValue` without their guard at the call site.
//!
//! wasm-bindgen's `impl Drop for JsValue` is `#[inline]`: every drop of a
//! temporary JavaScript value becomes, at its call site, "if the index is
//! past the fixed slots, call `__externref_table_dealloc`". That function
//! makes the same test first and returns for a fixed slot (wasm-bindgen
//! 0.2.130, `src/externref.rs`), so the guard at the call site decides
//! nothing: this pass removes it, and each drop is a plain call. The client
//! has some 280 of them (about 8 bytes each before compression).
//!
//! Only the two shapes that LLVM emits for the inlined drop are rewritten,
//! where nothing else depends on the guard:
//! - `(local.get|local.tee X) (i32.const C) (i32.lt_u) (br_if B)
//!   (local.get X) (call dealloc)` ending the block `B` itself;
//! - `(local.get|local.tee X) (i32.const C) (i32.ge_u)
//!   (if (then (local.get X) (call dealloc)))`.
//!
//! `C` must be the first number `__externref_table_dealloc` compares its
//! argument with (so its own test is the one removed), or nothing changes.
use std::collections::HashSet;

use anyhow::{bail, Result};
use walrus::ir::{BinaryOp, Instr, InstrSeqId, Value};
use walrus::{FunctionId, FunctionKind, LocalFunction, LocalId, Module};

/// The function every drop calls.
const DEALLOC: &str = "__externref_table_dealloc";

/// Removes the guards of the drops in `m`; the number removed.
pub fn unguard(m: &mut Module) -> Result<usize> {
    let Some(dealloc) = m.funcs.by_name(DEALLOC) else {
        bail!("no function named {DEALLOC} (a module built by wasm-bindgen with reference types)");
    };
    let Some(bound) = own_bound(m, dealloc) else {
        bail!("{DEALLOC} does not begin with its own test of the index: the guards are kept");
    };
    let mut removed = 0;
    for (id, f) in m.funcs.iter_local_mut() {
        if id != dealloc {
            removed += unguard_in(f, dealloc, bound);
        }
    }
    Ok(removed)
}

/// The number `dealloc` first compares its argument with: `(local.get 0)
/// (i32.const C) (i32.lt_u)` at the start of its body or of a block there.
fn own_bound(m: &Module, dealloc: FunctionId) -> Option<i32> {
    let FunctionKind::Local(f) = &m.funcs.get(dealloc).kind else { return None };
    let arg = *f.args.first()?;
    let mut seq = f.entry_block();
    loop {
        let instrs = &f.block(seq).instrs;
        match instrs.first().map(|(i, _)| i) {
            Some(Instr::Block(b)) => seq = b.seq,
            _ => return guard(instrs.iter().map(|(i, _)| i), arg, |op| matches!(op, BinaryOp::I32LtU)),
        }
    }
}

/// `C` when `instrs` begins with `(local.get|local.tee X) (i32.const C)
/// (op)`, for `X` = `local` and an `op` that `op` accepts.
fn guard<'a>(mut instrs: impl Iterator<Item = &'a Instr>, local: LocalId, op: fn(&BinaryOp) -> bool) -> Option<i32> {
    match (instrs.next()?, instrs.next()?, instrs.next()?) {
        (
            Instr::LocalGet(walrus::ir::LocalGet { local: x }) | Instr::LocalTee(walrus::ir::LocalTee { local: x }),
            Instr::Const(walrus::ir::Const { value: Value::I32(c) }),
            Instr::Binop(b),
        ) if *x == local && op(&b.op) => Some(*c),
        _ => None,
    }
}

/// Whether `instrs` are exactly `(local.get X) (call dealloc)`.
fn is_drop(instrs: &[&Instr], local: LocalId, dealloc: FunctionId) -> bool {
    matches!(
        instrs,
        [Instr::LocalGet(g), Instr::Call(c)] if g.local == local && c.func == dealloc
    )
}

/// The local that `instr` reads or sets, if it is a `local.get` or `local.tee`.
fn local_of(instr: &Instr) -> Option<LocalId> {
    match instr {
        Instr::LocalGet(g) => Some(g.local),
        Instr::LocalTee(t) => Some(t.local),
        _ => None,
    }
}

fn unguard_in(f: &mut LocalFunction, dealloc: FunctionId, bound: i32) -> usize {
    // Every sequence of the body, and which are loops' (a branch to a loop
    // goes back to its start: not a guard).
    let mut seqs = vec![f.entry_block()];
    let mut loops = HashSet::new();
    let mut at = 0;
    while at < seqs.len() {
        for (instr, _) in &f.block(seqs[at]).instrs {
            match instr {
                Instr::Block(b) => seqs.push(b.seq),
                Instr::Loop(l) => {
                    loops.insert(l.seq);
                    seqs.push(l.seq);
                }
                Instr::IfElse(i) => seqs.extend([i.consequent, i.alternative]),
                _ => {}
            }
        }
        at += 1;
    }
    let mut removed = 0;
    for &seq in &seqs {
        removed += unguard_seq(f, seq, !loops.contains(&seq), dealloc, bound);
    }
    removed
}

/// Rewrites the guarded drops of one sequence; `block`: the sequence is a
/// block's (or the body's), so that a `br_if` to it skips to its end.
fn unguard_seq(f: &mut LocalFunction, seq: InstrSeqId, block: bool, dealloc: FunctionId, bound: i32) -> usize {
    let mut removed = 0;
    let mut i = 0;
    loop {
        let instrs = &f.block(seq).instrs;
        if i + 3 >= instrs.len() {
            return removed;
        }
        let Some(x) = local_of(&instrs[i].0) else {
            i += 1;
            continue;
        };
        // The longest shape is six instructions: only those are looked at.
        let window: Vec<&Instr> = instrs[i..].iter().take(6).map(|(instr, _)| instr).collect();
        // (x) (const) (lt_u) (br_if seq) (local.get x) (call dealloc), at the end.
        let by_branch = block
            && instrs.len() - i == 6
            && guard(window.iter().copied(), x, |op| matches!(op, BinaryOp::I32LtU)) == Some(bound)
            && matches!(window[3], Instr::BrIf(b) if b.block == seq)
            && is_drop(&window[4..], x, dealloc);
        // (x) (const) (ge_u) (if (then (local.get x) (call dealloc))).
        let by_if = guard(window.iter().copied(), x, |op| matches!(op, BinaryOp::I32GeU)) == Some(bound)
            && match window[3] {
                Instr::IfElse(e) => {
                    let then: Vec<&Instr> = f.block(e.consequent).instrs.iter().map(|(i, _)| i).collect();
                    f.block(e.alternative).instrs.is_empty() && is_drop(&then, x, dealloc)
                }
                _ => false,
            };
        if by_branch || by_if {
            let instrs = &mut f.block_mut(seq).instrs;
            // Keep (x), whose value the call then takes; the rest of the
            // shape (the guard, and the drop inside the branch or the `if`)
            // becomes the one call.
            let loc = instrs[i + 1].1;
            let call = walrus::ir::Call { func: dealloc };
            instrs.splice(i + 1..if by_branch { i + 6 } else { i + 4 }, [(Instr::Call(call), loc)]);
            removed += 1;
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use walrus::{FunctionBuilder, ValType};

    /// The fixed slots' end in the client's module.
    const END: i32 = 1028;

    /// A module with wasm-bindgen's `__externref_table_dealloc` (its own test
    /// against `own`) and one function per body `callers` builds, each given
    /// the local holding the index and the dealloc function.
    fn module(
        own: i32,
        callers: &[fn(&mut walrus::InstrSeqBuilder, LocalId, FunctionId)],
    ) -> (Module, Vec<FunctionId>) {
        let mut m = Module::default();
        let arg = m.locals.add(ValType::I32);
        let mut b = FunctionBuilder::new(&mut m.types, &[ValType::I32], &[]);
        b.name(DEALLOC.into());
        b.func_body().block(None, |inner| {
            let id = inner.id();
            inner.local_get(arg).i32_const(own).binop(BinaryOp::I32LtU).br_if(id).local_get(arg).drop();
        });
        let dealloc = b.finish(vec![arg], &mut m.funcs);
        let mut ids = Vec::new();
        for caller in callers {
            let x = m.locals.add(ValType::I32);
            let mut b = FunctionBuilder::new(&mut m.types, &[ValType::I32], &[]);
            caller(&mut b.func_body(), x, dealloc);
            ids.push(b.finish(vec![x], &mut m.funcs));
        }
        (m, ids)
    }

    /// The instructions of `f`'s body, nested sequences flattened in order.
    fn count(m: &Module, f: FunctionId) -> usize {
        let FunctionKind::Local(f) = &m.funcs.get(f).kind else { panic!("local") };
        fn walk(f: &LocalFunction, seq: InstrSeqId) -> usize {
            f.block(seq)
                .instrs
                .iter()
                .map(|(i, _)| {
                    1 + match i {
                        Instr::Block(b) => walk(f, b.seq),
                        Instr::IfElse(e) => walk(f, e.consequent) + walk(f, e.alternative),
                        _ => 0,
                    }
                })
                .sum()
        }
        walk(f, f.entry_block())
    }

    /// LLVM's two shapes of an inlined drop: a `br_if` past the call at the
    /// end of a block, and an `if` around it.
    fn by_branch(body: &mut walrus::InstrSeqBuilder, x: LocalId, dealloc: FunctionId) {
        body.block(None, |inner| {
            let id = inner.id();
            inner.local_get(x).i32_const(END).binop(BinaryOp::I32LtU).br_if(id).local_get(x).call(dealloc);
        });
    }
    fn by_if(body: &mut walrus::InstrSeqBuilder, x: LocalId, dealloc: FunctionId) {
        body.local_get(x).i32_const(END).binop(BinaryOp::I32GeU).if_else(
            None,
            |then| {
                then.local_get(x).call(dealloc);
            },
            |_| {},
        );
    }
    /// A branch that also skips other work: the guard decides something.
    fn skips_more(body: &mut walrus::InstrSeqBuilder, x: LocalId, dealloc: FunctionId) {
        body.block(None, |inner| {
            let id = inner.id();
            inner.local_get(x).i32_const(END).binop(BinaryOp::I32LtU).br_if(id).local_get(x).call(dealloc);
            inner.local_get(x).call(dealloc);
        });
    }

    #[test]
    fn both_shapes_of_a_guarded_drop_become_a_plain_call() {
        let (mut m, f) = module(END, &[by_branch, by_if, skips_more]);
        let before: Vec<usize> = f.iter().map(|&f| count(&m, f)).collect();
        assert_eq!(unguard(&mut m).unwrap(), 2);
        // (block (x) (const) (lt_u) (br_if) (x) (call)) → (block (x) (call)).
        assert_eq!(count(&m, f[0]), before[0] - 4);
        // (x) (const) (ge_u) (if (x) (call)) → (x) (call).
        assert_eq!(count(&m, f[1]), 2);
        // A branch past more than the drop stays.
        assert_eq!(count(&m, f[2]), before[2]);
        // The rewritten module is valid wasm.
        Module::from_buffer(&m.emit_wasm()).unwrap();
    }

    #[test]
    fn a_guard_against_another_bound_is_kept() {
        // dealloc tests against another bound: the call sites' test is not its own.
        let (mut m, f) = module(END + 4, &[by_branch, by_if]);
        let before: Vec<usize> = f.iter().map(|&f| count(&m, f)).collect();
        assert_eq!(unguard(&mut m).unwrap(), 0);
        assert_eq!(f.iter().map(|&f| count(&m, f)).collect::<Vec<_>>(), before);
    }
}
