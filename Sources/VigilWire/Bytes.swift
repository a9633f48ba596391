/// Appends big-endian integers to a byte buffer.
struct ByteWriter {
    var bytes: [UInt8] = []
    init(capacity: Int = 64) { bytes.reserveCapacity(capacity) }
    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { int(v) }
    mutating func u32(_ v: UInt32) { int(v) }
    mutating func u64(_ v: UInt64) { int(v) }
    mutating func raw(_ b: some Sequence<UInt8>) { bytes.append(contentsOf: b) }
    /// A short string: length (1) then UTF-8 bytes (cut at 255).
    mutating func string(_ s: String) {
        let b = Array(s.utf8.prefix(255))
        u8(UInt8(b.count))
        raw(b)
    }
    private mutating func int<T: FixedWidthInteger>(_ v: T) {
        var be = v.bigEndian
        withUnsafeBytes(of: &be) { bytes.append(contentsOf: $0) }
    }
}

/// Reads big-endian integers; every read is bounds-checked and returns nil past the end.
struct ByteReader {
    let bytes: ArraySlice<UInt8>
    var offset: Int
    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        offset = bytes.startIndex
    }
    var remaining: Int { bytes.endIndex - offset }
    mutating func raw(_ n: Int) -> [UInt8]? {
        guard n >= 0, remaining >= n else { return nil }
        defer { offset += n }
        return Array(bytes[offset..<(offset + n)])
    }
    mutating func u8() -> UInt8? { int() }
    mutating func u16() -> UInt16? { int() }
    mutating func u32() -> UInt32? { int() }
    mutating func u64() -> UInt64? { int() }
    mutating func string() -> String? {
        guard let n = u8(), remaining >= Int(n) else { return nil }
        let s = String(decoding: bytes[offset..<(offset + Int(n))], as: UTF8.self)
        offset += Int(n)
        return s
    }
    private mutating func int<T: FixedWidthInteger>() -> T? {
        let n = MemoryLayout<T>.size
        guard remaining >= n else { return nil }
        var v: T = 0
        for i in 0..<n { v = (v << 8) | T(bytes[offset + i]) }
        offset += n
        return v
    }
}
