//! Reachability over the call graph, conservative about indirect calls.
//!
//! Roots are the exported functions and the start function. A direct call
//! (`call`, `return_call`) is an edge. An indirect call (`call_indirect`,
//! `call_ref`, and their tail forms) anywhere in a reachable function makes
//! every address-taken function reachable (anything in an element segment or
//! named by `ref.func`), and so does a table or reference global the host can
//! reach through an import or export.

use std::collections::VecDeque;

use crate::module::Module;

/// Which functions can run, and one way each is reached.
#[derive(Debug, Clone)]
pub struct Reach {
    /// `via[f]`: `None` if `f` is unreachable; `Some(Via)` otherwise.
    via: Vec<Option<Via>>,
}

/// How a reachable function was first reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// A root: an export or the start function.
    Root,
    /// Called directly by this function.
    Call(u32),
    /// A possible target of an indirect call (or of the host through a table).
    Indirect,
}

impl Reach {
    /// Everything reachable from exports and start.
    pub fn from_entry_points(m: &Module) -> Self {
        let roots: Vec<u32> = m
            .func_exports
            .iter()
            .map(|&(_, f)| f)
            .chain(m.start)
            .collect();
        Self::from(m, &roots, true)
    }

    /// Everything reachable from `roots`; `indirect`: follow indirect calls
    /// (conservatively) or only direct ones.
    pub fn from(m: &Module, roots: &[u32], indirect: bool) -> Self {
        let n = m.func_count() as usize;
        let mut via = vec![None; n];
        let mut queue = VecDeque::new();
        for &r in roots {
            if let Some(slot) = via.get_mut(r as usize) {
                if slot.is_none() {
                    *slot = Some(Via::Root);
                    queue.push_back(r);
                }
            }
        }
        let mut took_indirect = false;
        let take_indirect = |via: &mut Vec<Option<Via>>, queue: &mut VecDeque<u32>| {
            for &t in &m.address_taken {
                if let Some(slot) = via.get_mut(t as usize) {
                    if slot.is_none() {
                        *slot = Some(Via::Indirect);
                        queue.push_back(t);
                    }
                }
            }
        };
        // The host calls through a table it holds even when the module
        // exports no function and has no start.
        if indirect && m.host_reaches_tables {
            take_indirect(&mut via, &mut queue);
            took_indirect = true;
        }
        while let Some(f) = queue.pop_front() {
            let Some(body) = m.body(f) else { continue };
            for &c in &body.calls {
                if let Some(slot) = via.get_mut(c as usize) {
                    if slot.is_none() {
                        *slot = Some(Via::Call(f));
                        queue.push_back(c);
                    }
                }
            }
            if indirect && body.indirect && !took_indirect {
                take_indirect(&mut via, &mut queue);
                took_indirect = true;
            }
        }
        Self { via }
    }

    /// Whether `f` can run.
    pub fn reaches(&self, f: u32) -> bool {
        matches!(self.via.get(f as usize), Some(Some(_)))
    }

    /// A chain of function indices from a root to `f` (root first), or empty
    /// if `f` is unreachable. A chain starting at an indirect target begins
    /// with that target.
    pub fn path(&self, f: u32) -> Vec<u32> {
        let mut out = Vec::new();
        let mut cur = f;
        while let Some(Some(v)) = self.via.get(cur as usize) {
            out.push(cur);
            match *v {
                Via::Call(caller) if !out.contains(&caller) => cur = caller,
                _ => break,
            }
        }
        out.reverse();
        out
    }

    /// How the first function of [`Reach::path`] was reached.
    pub fn how(&self, f: u32) -> Option<Via> {
        self.path(f)
            .first()
            .and_then(|&g| self.via.get(g as usize).copied().flatten())
    }
}
