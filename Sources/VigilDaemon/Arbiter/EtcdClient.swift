import CCurl
import FoundationEssentials
import VigilConfig
import VigilCore

/// etcd's v3 API through its JSON gateway (`POST /v3/...`, base64 keys and values, 64-bit numbers
/// as strings), over libcurl (TLS with the `[arbiter]` files). Endpoints are tried in order,
/// starting with the last one that answered, within the request's time limit. Blocking: only the
/// arbiter's own thread calls it.
struct EtcdClient {
    let config: ArbiterConfig
    private var preferred = 0

    init(config: ArbiterConfig) { self.config = config }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    struct KeyValue: Decodable { var key: String?; var value: String?; var lease: String?; var mod_revision: String? }
    struct RangeAnswer: Decodable { var kvs: [KeyValue]? }
    struct LeaseAnswer: Decodable { var ID: String?; var TTL: String? }
    struct KeepAliveAnswer: Decodable { var result: LeaseAnswer? }
    struct TxnAnswer: Decodable {
        struct Response: Decodable { var response_range: RangeAnswer? }
        var succeeded: Bool?
        var responses: [Response]?
    }
    struct ErrorAnswer: Decodable { var error: String?; var message: String? }

    /// One call: `path` (e.g. "/v3/kv/range") with a JSON body, the answer decoded.
    mutating func call<T: Decodable>(_ path: String, _ body: [String: Any], until deadline: Instant) throws(Failure) -> T {
        let json = EtcdClient.encode(body)
        var lastError = "no endpoint tried"
        for k in 0..<config.endpoints.count {
            let left = deadline - Clock.monotonic()
            guard left > .ms(1) else { break }
            let i = (preferred + k) % config.endpoints.count
            let url = config.endpoints[i] + path
            var status = 0, out: UnsafeMutablePointer<CChar>?, len = 0
            var err = [CChar](repeating: 0, count: 256)
            let rc = vigil_http_post(url, json, config.caFile, config.certFile, config.keyFile, Int(left.nanoseconds / 1_000_000),
                                     &status, &out, &len, &err, err.count)
            guard rc == 0, let out else {
                lastError = "\(config.endpoints[i]): " + String(decoding: err.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                continue
            }
            let data = Data(bytes: out, count: len)
            vigil_http_free(out)
            guard status == 200 else {
                let e = try? JSONDecoder().decode(ErrorAnswer.self, from: data)
                lastError = "\(config.endpoints[i]): HTTP \(status) \(e?.message ?? e?.error ?? "")"
                if status == 503 && url.hasPrefix("https:") && config.certFile != nil {
                    // Seen with etcd 3.4: its JSON gateway dials etcd's own gRPC port with the server certificate.
                    lastError += " (etcd's JSON gateway could not reach etcd itself: with --client-cert-auth, etcd's server"
                        + " certificate must allow client authentication too, extendedKeyUsage serverAuth,clientAuth)"
                }
                continue
            }
            preferred = i
            do { return try JSONDecoder().decode(T.self, from: data) } catch {
                throw Failure("\(config.endpoints[i]) answered \(path) with JSON this client cannot read: \(String(decoding: data.prefix(200), as: UTF8.self))")
            }
        }
        throw Failure(lastError)
    }

    static func encode(_ v: Any) -> String {
        switch v {
        case let s as String: return "\"" + s.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"") + "\""
        case let b as Bool: return b ? "true" : "false"
        case let i as Int64: return "\"\(i)\""
        case let i as Int: return "\(i)"
        case let a as [Any]: return "[" + a.map(encode).joined(separator: ",") + "]"
        case let d as [String: Any]: return "{" + d.sorted { $0.key < $1.key }.map { encode($0.key) + ":" + encode($0.value) }.joined(separator: ",") + "}"
        default: return "null"
        }
    }

    static func b64(_ s: String) -> String { Data(s.utf8).base64EncodedString() }
    static func unb64(_ s: String?) -> String? { s.flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) } }
}

/// The few operations the vote and the tickets need, each a transaction or a pair of calls.
extension EtcdClient {
    /// Creates `key` = `value` on a new lease of `ttl` if the key is absent; the lease's TTL if it
    /// did (the unused lease is revoked otherwise), nil if someone holds the key.
    mutating func create(_ key: String, _ value: String, ttl: TimeSpan, until deadline: Instant) throws(Failure) -> Int64? {
        let granted: LeaseAnswer = try call("/v3/lease/grant", ["TTL": Int64(ttl.nanoseconds / 1_000_000_000)], until: deadline)
        guard let id = granted.ID, let t = granted.TTL.flatMap(Int64.init), t > 0 else { throw Failure("lease grant answered no lease") }
        let txn: TxnAnswer = try call("/v3/kv/txn", [
            "compare": [["key": key, "target": "CREATE", "create_revision": Int64(0)] as [String: Any]],
            "success": [["request_put": ["key": key, "value": value, "lease": id] as [String: Any]]],
        ], until: deadline)
        if txn.succeeded == true { return t }
        let _: LeaseAnswer? = try? call("/v3/lease/revoke", ["ID": id], until: deadline)
        return nil
    }

    /// Puts `value` on the same lease if the key has not changed since `kv` was read.
    mutating func replace(_ key: String, _ kv: KeyValue, with value: String, until deadline: Instant) throws(Failure) -> Bool {
        guard let lease = kv.lease, let rev = kv.mod_revision.flatMap(Int64.init) else { return false }
        let txn: TxnAnswer = try call("/v3/kv/txn", [
            "compare": [["key": key, "target": "MOD", "mod_revision": rev] as [String: Any]],
            "success": [["request_put": ["key": key, "value": value, "lease": lease] as [String: Any]]],
        ], until: deadline)
        return txn.succeeded == true
    }

    /// Deletes the key and revokes its lease if the key has not changed since `kv` was read.
    mutating func delete(_ key: String, _ kv: KeyValue, until deadline: Instant) throws(Failure) -> Bool {
        guard let lease = kv.lease, let rev = kv.mod_revision.flatMap(Int64.init) else { return false }
        let txn: TxnAnswer = try call("/v3/kv/txn", [
            "compare": [["key": key, "target": "MOD", "mod_revision": rev] as [String: Any]],
            "success": [["request_delete_range": ["key": key]]],
        ], until: deadline)
        guard txn.succeeded == true else { return false }
        let _: LeaseAnswer? = try? call("/v3/lease/revoke", ["ID": lease], until: deadline)
        return true
    }

    mutating func get(_ key: String, until deadline: Instant) throws(Failure) -> KeyValue? {
        let range: RangeAnswer = try call("/v3/kv/range", ["key": key], until: deadline)
        return range.kvs?.first
    }

    /// Keeps `kv`'s lease alive: its TTL, nil if the lease is gone.
    mutating func keepAlive(_ kv: KeyValue, until deadline: Instant) throws(Failure) -> Int64? {
        guard let lease = kv.lease else { return nil }
        let alive: KeepAliveAnswer = try call("/v3/lease/keepalive", ["ID": lease], until: deadline)
        return alive.result?.TTL.flatMap(Int64.init).flatMap { $0 > 0 ? $0 : nil }
    }

    /// The key's value and what its lease has left, rounded down to what is proven: etcd answers
    /// whole seconds (possibly rounded up), so one second less. Nil: no key (or its lease expired).
    mutating func read(_ key: String, until deadline: Instant) throws(Failure) -> (value: String?, remaining: TimeSpan)? {
        guard let kv = try get(key, until: deadline), let lease = kv.lease else { return nil }
        let ttl: LeaseAnswer = try call("/v3/lease/timetolive", ["ID": lease], until: deadline)
        let left = ttl.TTL.flatMap(Int64.init) ?? -1
        guard left > 0 else { return nil }
        return (EtcdClient.unb64(kv.value), .seconds(Double(left - 1)))
    }
}

