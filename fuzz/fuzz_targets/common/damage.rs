//! Damaged copies of a valid snapshot image, shared by the snapshot fuzz
//! targets (included with `#[path]`: each target is its own crate).

/// `valid` with the fuzzer's edits applied: `data` read as
/// `(offset u16 little-endian, xor byte)` triples, the offset wrapped to
/// the image. `None` for an empty image.
pub fn edited(valid: &[u8], data: &[u8]) -> Option<Vec<u8>> {
    let mut image = valid.to_vec();
    if image.is_empty() {
        return None;
    }
    for edit in data.chunks_exact(3) {
        let at = usize::from(u16::from_le_bytes([edit[0], edit[1]])) % image.len();
        image[at] ^= edit[2];
    }
    Some(image)
}
