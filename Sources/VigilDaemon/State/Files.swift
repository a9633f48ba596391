import Glibc
import VigilConfig
import VigilCore

/// Reading the files the daemon and tools need, with messages that name the file.
public enum Files {
    public static func loadConfig(_ path: String) -> Result<ClusterConfig, Diagnostic> {
        loadConfigText(path).map(\.0)
    }

    /// The file validated, and its text.
    public static func loadConfigText(_ path: String) -> Result<(ClusterConfig, String), Diagnostic> {
        guard let data = readFile(path) else {
            return .failure(Diagnostic(file: path, line: 0, severity: .error, message: "cannot read the file: \(String(cString: strerror(errno)))",
                                       fix: "check the path and permissions"))
        }
        let text = String(decoding: data, as: UTF8.self)
        return ClusterConfig.load(text: text, file: path).map { ($0, text) }
    }

    /// `vigild --check-config` and `vigilctl validate`: warnings, OK and the derived values on
    /// stdout, or the error (file:line) on stderr. Returns the exit status.
    public static func checkConfig(_ path: String) -> Int32 {
        switch loadConfig(path) {
        case .failure(let d):
            eprint(d.description)
            return 1
        case .success(let c):
            // Fence devices: the program must exist and its metadata must know every parameter.
            let (devices, fenceErrors) = DeviceFence.validate(c)
            let found = fenceErrors + ResourceCheck.validate(c)
            let errors = found.filter { $0.severity == .error }
            if !errors.isEmpty {
                errors.forEach { eprint($0.description) }
                return 1
            }
            for w in c.warnings + found.filter({ $0.severity == .warning }) { print(w) }
            print("\(path): OK")
            for d in devices { print("fence device \(d.spec.name): \(d.path) (\(d.spec.kind.rawValue)), nodes \(c.nodes.filter { d.spec.nodes.contains($0.id) }.map(\.name).joined(separator: ","))") }
            c.derivedValues.forEach { print($0) }
            return 0
        }
    }

    public enum KeyError: Error, CustomStringConvertible {
        case unreadable(String), tooOpen(String, UInt32), badFormat(String)
        public var description: String {
            switch self {
            case .unreadable(let p): "key file \(p): cannot read it (create one with: vigilctl keygen \(p))"
            case let .tooOpen(p, mode): "key file \(p): mode \(String(mode, radix: 8)) lets group or others read the cluster key; refusing (chmod 600 \(p))"
            case .badFormat(let p): "key file \(p): expected 64 hex digits or 32 raw bytes (vigilctl keygen makes one)"
            }
        }
    }

    /// The cluster key: must not be readable by group or others.
    public static func loadKey(_ path: String) throws(KeyError) -> ClusterKey {
        var st = stat()
        guard stat(path, &st) == 0, let data = readFile(path) else { throw .unreadable(path) }
        if st.st_mode & 0o077 != 0 { throw .tooOpen(path, st.st_mode & 0o777) }
        let text = String(decoding: data, as: UTF8.self).trimmed
        var bytes: [UInt8] = []
        if text.count == 64 {
            var i = text.startIndex
            while i < text.endIndex, let b = UInt8(text[i..<text.index(i, offsetBy: 2)], radix: 16) {
                bytes.append(b)
                i = text.index(i, offsetBy: 2)
            }
        } else if data.count == ClusterKey.size {
            bytes = data
        }
        guard let key = try? ClusterKey(bytes: bytes) else { throw .badFormat(path) }
        return key
    }

    /// Writes a new random key as 64 hex digits, mode 0600, refusing to overwrite.
    public static func writeNewKey(_ path: String) throws -> Void {
        var bytes = [UInt8](repeating: 0, count: ClusterKey.size)
        let rnd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
        guard rnd >= 0, read(rnd, &bytes, bytes.count) == bytes.count else { throw SystemError("reading /dev/urandom") }
        close(rnd)
        let hex = bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() + "\n"
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SystemError("cannot create \(path) (it must not exist yet)") }
        defer { close(fd) }
        fchmod(fd, 0o600)
        guard SocketIO.writeFile(fd, hex) else { throw SystemError("cannot write \(path)") }
    }
}

extension Files {
    /// Replaces `path` whole (a temporary file renamed over it): readers see the old or the new.
    static func replace(_ path: String, with text: String, mode: mode_t = 0o644) -> Bool {
        let tmp = path + ".tmp-\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { return false }
        let ok = SocketIO.writeFile(fd, text) && fsync(fd) == 0
        close(fd)
        guard ok, rename(tmp, path) == 0 else {
            let e = errno
            unlink(tmp)
            errno = e
            return false
        }
        return true
    }
}

extension SocketIO {
    static func writeFile(_ fd: Int32, _ s: String) -> Bool {
        let b = Array(s.utf8)
        return b.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == b.count
    }
}
