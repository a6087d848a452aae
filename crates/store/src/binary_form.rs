//! The pieces the store's binary forms are made of (clean records, golden records): LEB128 integers and texts as
//! a LEB128 length followed by their UTF-8 bytes.

/// Appends `v` as LEB128.
pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends a text: its length, then its bytes.
pub(crate) fn put_text(out: &mut Vec<u8>, text: &str) {
    put_varint(out, text.len() as u64);
    out.extend_from_slice(text.as_bytes());
}

/// Why a piece could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadError {
    /// The bytes end before the piece does, or a length points past them.
    Truncated,
    /// A text is not UTF-8.
    NotUtf8,
}

/// A cursor over the bytes still to read.
pub(crate) struct Reader<'a> {
    /// What is left.
    pub(crate) bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    /// The next byte.
    pub(crate) fn byte(&mut self) -> Result<u8, ReadError> {
        let (&b, rest) = self.bytes.split_first().ok_or(ReadError::Truncated)?;
        self.bytes = rest;
        Ok(b)
    }

    /// The next LEB128 integer.
    pub(crate) fn varint(&mut self) -> Result<u64, ReadError> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            value |= u64::from(b & 0x7F) << shift;
            if b < 0x80 {
                return Ok(value);
            }
        }
        Err(ReadError::Truncated)
    }

    /// A count of items that each take at least one byte: never more than the bytes left.
    pub(crate) fn count(&mut self) -> Result<usize, ReadError> {
        let n = self.varint()?;
        if n > self.bytes.len() as u64 {
            return Err(ReadError::Truncated);
        }
        Ok(n as usize)
    }

    /// The next text.
    pub(crate) fn text(&mut self) -> Result<&'a str, ReadError> {
        let n = self.count()?;
        let (text, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        std::str::from_utf8(text).map_err(|_| ReadError::NotUtf8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_and_texts_read_back_and_damage_is_told() {
        let mut out = Vec::new();
        for v in [0, 127, 128, 300, u64::MAX] {
            put_varint(&mut out, v);
        }
        put_text(&mut out, "Vriës");
        let mut r = Reader { bytes: &out };
        let read: Vec<u64> = (0..5).map(|_| r.varint().expect("varint")).collect();
        assert_eq!(read, [0, 127, 128, 300, u64::MAX]);
        assert_eq!(r.text(), Ok("Vriës"));
        assert_eq!(r.byte(), Err(ReadError::Truncated));
        assert_eq!(Reader { bytes: &[5, b'a'] }.text(), Err(ReadError::Truncated), "a length past the end");
        assert_eq!(Reader { bytes: &[1, 0xFF] }.text(), Err(ReadError::NotUtf8));
        assert_eq!(Reader { bytes: &[0x80; 11] }.varint(), Err(ReadError::Truncated), "no last byte");
    }
}
