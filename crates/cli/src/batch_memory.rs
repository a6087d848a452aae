//! Memory settings for a batch resolution. It faults in several hundred megabytes once and reads them a few times:
//! with transparent huge pages every fault zeroes 2 MiB, much of it never used, and on the 2-core machine of
//! `BENCHMARKS.md` a 1M-record resolve spent about 0.5–1.5 s more in the kernel that way than with 4 KiB pages
//! (which cost some TLB misses instead): without them it ran faster in eight of ten alternating pairs.

/// Stops this process from getting transparent huge pages from here on (memory mapped already keeps its pages).
/// Only a hint: where the system refuses (an old kernel) or has none (not Linux), the batch runs as before.
pub fn without_huge_pages() {
    #[cfg(target_os = "linux")]
    let _refused = rustix::thread::disable_transparent_huge_pages(true);
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #[test]
    fn the_process_asks_for_no_huge_pages() {
        super::without_huge_pages();
        assert_eq!(rustix::thread::transparent_huge_pages_are_disabled().ok(), Some(true));
    }
}
