//! A nogrow guest embedded in the wasmi interpreter.
//!
//! ```text
//! nogrow-host-wasmi GUEST.wasm [EXPORT:ARG ...]
//! ```
//!
//! Calls each `EXPORT(ARG)` (a `(u32) -> u32` export, such as the heavy
//! guest's `heavy` and `grab`) in turn. After every call it reads
//! `nogrow_generation()` and the state block (with `nogrow::host`), renews its
//! cached view of memory (pointer and length) when the generation changed, and
//! checks that memory never changed without a generation change. A trap after
//! which the guest recorded a new failure is explained in one line.
//!
//! Exits 0 when every call ran or trapped out of memory and every memory change
//! came with a generation change; 1 otherwise; 2 on bad arguments.

use std::process::ExitCode;

use nogrow::host::Snapshot;
use wasmi::{Engine, Instance, Linker, Memory, Module, Store, TypedFunc};

/// What the host keeps between calls: the view it made of memory, and the
/// generation it was made at.
struct View {
    ptr: usize,
    len: usize,
    generation: u32,
}

impl View {
    fn take(memory: &Memory, store: &Store<()>, generation: u32) -> Self {
        View {
            ptr: memory.data_ptr(store) as usize,
            len: memory.data_size(store),
            generation,
        }
    }
}

/// The guest, instantiated.
struct Guest {
    store: Store<()>,
    instance: Instance,
    memory: Memory,
    generation: TypedFunc<(), u32>,
    state_addr: u32,
}

impl Guest {
    fn load(path: &str) -> Result<Self, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
        let engine = Engine::default();
        let module = Module::new(&engine, &bytes).map_err(|e| format!("{path}: {e}"))?;
        let mut store = Store::new(&engine, ());
        let linker = Linker::<()>::new(&engine);
        let instance = linker
            .instantiate_and_start(&mut store, &module)
            .map_err(|e| format!("{path}: instantiating: {e}"))?;
        let memory = instance
            .get_memory(&store, "memory")
            .ok_or(format!("{path}: exports no memory"))?;
        let export = |name: &str| format!("{path}: export {name}");
        let state = instance
            .get_typed_func::<(), u32>(&store, "nogrow_state")
            .map_err(|e| format!("{}: {e}", export("nogrow_state")))?;
        let generation = instance
            .get_typed_func::<(), u32>(&store, "nogrow_generation")
            .map_err(|e| format!("{}: {e}", export("nogrow_generation")))?;
        let state_addr = state
            .call(&mut store, ())
            .map_err(|e| format!("nogrow_state(): {e}"))?;
        Ok(Guest {
            store,
            instance,
            memory,
            generation,
            state_addr,
        })
    }

    fn generation(&mut self) -> Result<u32, String> {
        self.generation
            .call(&mut self.store, ())
            .map_err(|e| format!("nogrow_generation(): {e}"))
    }

    fn snapshot(&self) -> Result<Snapshot, String> {
        Snapshot::read(self.memory.data(&self.store), self.state_addr).map_err(|e| e.to_string())
    }
}

fn policy_name(s: &Snapshot) -> &'static str {
    s.policy.map_or("unknown", |k| k.name())
}

fn run(path: &str, calls: &[(String, u32)]) -> Result<bool, String> {
    let mut guest = Guest::load(path)?;
    let generation = guest.generation()?;
    let mut view = View::take(&guest.memory, &guest.store, generation);
    let first = guest.snapshot()?;
    println!(
        "instantiated {path}: memory {} bytes, state block at {}, generation {}, policy {}, arena {} bytes",
        view.len,
        guest.state_addr,
        generation,
        policy_name(&first),
        first.heap_bytes
    );
    let (mut changes, mut traps, mut consistent) = (0, 0, true);
    for (name, arg) in calls {
        let func = guest
            .instance
            .get_typed_func::<u32, u32>(&guest.store, name)
            .map_err(|e| format!("export {name}: {e}"))?;
        let before = guest.snapshot()?;
        let result = func.call(&mut guest.store, *arg);
        let generation = guest.generation()?;
        let after = guest.snapshot()?;
        let mut line = format!("{name}({arg}): ");
        match &result {
            Ok(value) => line += &format!("returned {value}"),
            Err(trap) => line += &format!("trapped ({trap})"),
        }
        line += &format!("; generation {generation}");
        if after.generation != generation {
            line += &format!(" (state block says {}: mismatch)", after.generation);
            consistent = false;
        }
        let (len, ptr) = (
            guest.memory.data_size(&guest.store),
            guest.memory.data_ptr(&guest.store) as usize,
        );
        if generation != view.generation {
            changes += 1;
            line += &format!(
                ", changed from {}: view renewed, memory {} -> {len} bytes",
                view.generation, view.len
            );
            view = View::take(&guest.memory, &guest.store, generation);
        } else if len != view.len || ptr != view.ptr {
            line += &format!(
                ", unchanged, but memory changed ({} -> {len} bytes): the cached view is stale",
                view.len
            );
            consistent = false;
        }
        line += &format!(
            "; in use {}, growths {}, failures {}",
            after.in_use, after.growths, after.failures
        );
        println!("{line}");
        if let Err(trap) = result {
            traps += 1;
            match after.explanation() {
                Some(why) if after.failures > before.failures => {
                    println!("explanation: {why}");
                }
                _ => {
                    println!("not an out-of-memory trap: {trap}");
                    consistent = false;
                }
            }
        }
    }
    let last = guest.snapshot()?;
    println!(
        "summary: {} calls, {traps} out-of-memory traps, {changes} generation changes, generation {}, growths {}, failures {}, memory {} bytes",
        calls.len(),
        last.generation,
        last.growths,
        last.failures,
        guest.memory.data_size(&guest.store)
    );
    Ok(consistent)
}

fn parse(args: &[String]) -> Result<(String, Vec<(String, u32)>), String> {
    let (path, rest) = args
        .split_first()
        .ok_or("usage: nogrow-host-wasmi GUEST.wasm [EXPORT:ARG ...]")?;
    let mut calls = Vec::new();
    for a in rest {
        let (name, arg) = a
            .split_once(':')
            .ok_or(format!("{a}: expected EXPORT:ARG"))?;
        let arg = arg.parse().map_err(|e| format!("{a}: {e}"))?;
        calls.push((name.to_string(), arg));
    }
    if calls.is_empty() {
        calls = [
            "heavy:256",
            "heavy:1024",
            "heavy:4096",
            "grab:1024",
            "grab:131072",
        ]
        .iter()
        .map(|c| {
            let (n, a) = c.split_once(':').unwrap();
            (n.to_string(), a.parse().unwrap())
        })
        .collect();
    }
    Ok((path.clone(), calls))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (path, calls) = match parse(&args) {
        Ok(parsed) => parsed,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match run(&path, &calls) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("nogrow-host-wasmi: {e}");
            ExitCode::FAILURE
        }
    }
}
