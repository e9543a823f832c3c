//! `Command::digest` runs once per command on the engine's path: it encodes the command with
//! postcard straight into BLAKE3 (`HashingFlavor`) and writes ids and actors as borrowed text,
//! so it makes no heap allocation (issue 13, wave 9). Counted by this binary's own allocator;
//! its one test runs alone, so no other thread allocates meanwhile.

mod lifecycle_support;

use lifecycle_support::*;
use plaint_domain::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

#[test]
fn the_digest_makes_no_allocation() {
    let commands: Vec<Command> = one_of_each_command()
        .into_iter()
        .enumerate()
        .map(|(i, body)| Command {
            command_id: CommandId::new(format!("c-{i}")).unwrap(),
            complaint_id: ComplaintId::new(COMPLAINT).unwrap(),
            actor: if i % 2 == 0 {
                Actor::person("cs-1").unwrap()
            } else {
                Actor::System
            },
            occurred_at: Some(t0()),
            body,
        })
        .collect();
    for cmd in &commands {
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        let digest = cmd.digest();
        let made = ALLOCATIONS.load(Ordering::Relaxed) - before;
        assert_eq!(made, 0, "{} allocated {made} times for {digest}", cmd.body.name());
    }
}
