//! Turns one input into another. Besides the usual byte edits it repeats tokens and slices
//! many times over, since unbounded nesting, long chains and long lines are what break
//! parsers, and splices inputs together.

/// A small, seedable generator (xorshift64*): runs are reproducible from their seed, and no
/// random-number crate is needed.
pub struct Mutator {
    state: u64,
}

impl Mutator {
    pub fn new(seed: u64) -> Mutator {
        Mutator { state: seed.max(1) }
    }

    pub fn next(&mut self) -> u64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    /// A count that is usually small and sometimes huge: 2 to 2^16, log-uniform.
    fn count(&mut self) -> usize {
        1 << (1 + self.below(16))
    }

    /// One to four edits of `input`; `other` is material to splice in, `dictionary` the
    /// target's tokens. The result is at most `max_len` bytes.
    pub fn mutate(
        &mut self,
        input: &[u8],
        other: &[u8],
        dictionary: &[&[u8]],
        max_len: usize,
    ) -> Vec<u8> {
        let mut data = input.to_vec();
        for _ in 0..=self.below(4) {
            self.edit(&mut data, other, dictionary);
        }
        data.truncate(max_len);
        data
    }

    fn edit(&mut self, data: &mut Vec<u8>, other: &[u8], dictionary: &[&[u8]]) {
        let at = self.below(data.len() + 1);
        match self.below(10) {
            0 if !data.is_empty() => {
                let i = self.below(data.len());
                data[i] = self.next() as u8;
            }
            1 if !data.is_empty() => {
                let i = self.below(data.len());
                data[i] = b"{}()[]\"'#/*\\!&,;=-\n \t{}"[self.below(23)];
            }
            2 => {
                let end = (at + 1 + self.below(16)).min(data.len());
                data.drain(at.min(end)..end);
            }
            3 | 4 if !dictionary.is_empty() => {
                let token = dictionary[self.below(dictionary.len())];
                data.splice(at..at, token.iter().copied());
            }
            5 if !dictionary.is_empty() => {
                // Deep nesting and long chains: one token many times over.
                let token = dictionary[self.below(dictionary.len())];
                let times = self.count();
                let repeated = token.repeat(times);
                data.splice(at..at, repeated);
            }
            6 if !data.is_empty() => {
                let start = self.below(data.len());
                let end = (start + 1 + self.below(32)).min(data.len());
                let slice = data[start..end].repeat(self.count());
                data.splice(at..at, slice);
            }
            7 if !other.is_empty() => {
                let start = self.below(other.len());
                let end = (start + 1 + self.below(other.len() - start)).min(other.len());
                data.splice(at..at, other[start..end].iter().copied());
            }
            8 if !data.is_empty() => {
                let start = self.below(data.len());
                let end = (start + 1 + self.below(64)).min(data.len());
                let slice = data[start..end].to_vec();
                data.splice(at..at, slice);
            }
            _ => {
                data.insert(at, self.next() as u8);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_mutations() {
        let run = |seed| {
            let mut m = Mutator::new(seed);
            (0..50)
                .map(|_| m.mutate(b"stage \"a\" { on \"all\" }", b"run", &[b"/-"], 1 << 16))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
    }

    #[test]
    fn output_is_bounded() {
        let mut m = Mutator::new(3);
        for _ in 0..500 {
            assert!(m.mutate(&[b'{'; 900], b"x", &[b"(((("], 1000).len() <= 1000);
        }
    }
}
