//! Output made in pieces on all cores and written in order.

use std::io;

use rayon::prelude::*;

/// Makes pieces `0..count` with `make` on the rayon pool and hands them
/// to `write` in order, so what is written is what one thread making and
/// writing them in turn would write. Pieces are made a wave of two per
/// pool thread at a time, and a wave is written (on the calling thread)
/// while the next one is made: at most two waves are held. Stops at the
/// first error of `write`.
pub fn write_in_order<P: Send>(
    count: usize,
    make: impl Fn(usize) -> P + Sync,
    mut write: impl FnMut(usize, P) -> io::Result<()>,
) -> io::Result<()> {
    let wave = rayon::current_num_threads().max(1) * 2;
    let make_wave = |first: usize| -> Vec<P> {
        (first..count.min(first.saturating_add(wave)))
            .into_par_iter()
            .map(&make)
            .collect()
    };
    let mut first = 0;
    let mut made = make_wave(first);
    while !made.is_empty() {
        let next = first.saturating_add(wave);
        let mut next_made = Vec::new();
        let written = rayon::in_place_scope(|scope| {
            scope.spawn(|_| next_made = make_wave(next));
            (first..)
                .zip(std::mem::take(&mut made))
                .try_for_each(|(i, piece)| write(i, piece))
        });
        written?;
        (first, made) = (next, next_made);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_are_written_in_order_and_errors_stop_the_writing() {
        for count in [0, 1, 3, 4, 5, 17, 100] {
            let mut seen = Vec::new();
            write_in_order(
                count,
                |i| i * 10,
                |i, piece| {
                    seen.push((i, piece));
                    Ok(())
                },
            )
            .expect("no error");
            let expected: Vec<(usize, usize)> = (0..count).map(|i| (i, i * 10)).collect();
            assert_eq!(seen, expected, "{count} pieces");
        }
        let mut written = 0;
        let result = write_in_order(
            100,
            |i| i,
            |i, _| {
                written += 1;
                if i == 7 {
                    Err(io::Error::other("disk full"))
                } else {
                    Ok(())
                }
            },
        );
        assert_eq!(result.map_err(|e| e.to_string()), Err("disk full".into()));
        assert_eq!(written, 8, "nothing is written after the error");
    }
}
