import Glibc
import VigilConfig
import VigilCore
import VigilStatus

extension ControlServer {
    /// `config apply|check PATH`: the file's replicated sections, validated against this node's
    /// own file (errors name PATH:line; its local sections are left out, as each node keeps its
    /// own), fence devices and resource agents checked as `vigild --check-config` does; then, unless
    /// a dry run, handed to the core, which gives it the next version or refuses (no quorum, an
    /// older epoch, this node still fetching a newer copy). Runs on the client's thread: the
    /// heartbeat thread only takes the validated bytes.
    func configApply(_ path: String, dryRun: Bool) -> ControlAnswer {
        guard let data = readFile(path) else { return .refused("\(path): cannot read it: \(String(cString: strerror(errno)))") }
        guard let localData = readFile(configPath) else { return .refused("\(configPath): cannot read this node's config file") }
        let text = String(decoding: data, as: UTF8.self), local = String(decoding: localData, as: UTF8.self)
        let c: ClusterConfig
        switch ReplicatedDocument.merge(local: local, localFile: configPath,
                                        document: ReplicatedDocument.blank(text, keepReplicated: true), documentName: path) {
        case .failure(let d): return .refused(d.description)
        case .success(let v): c = v
        }
        let problems = (DeviceFence.validate(c).1 + ResourceCheck.validate(c)).filter { $0.severity == .error }
            .map { ReplicatedDocument.remap($0, local: local, documentName: path) }
        if !problems.isEmpty { return .refused(problems.map(\.description).joined(separator: "\n")) }
        let part = ReplicatedDocument.text(of: text)
        guard let current = shared.document else { return .refused("starting") }
        if current.text == part { return ControlAnswer(ok: true, value: "unchanged: the cluster runs this document (\(current.version))") }
        if dryRun {
            guard case .success(let old) = ReplicatedDocument.merge(local: local, localFile: configPath, document: current.text,
                                                                     documentName: "document \(current.version)") else {
                return ControlAnswer(ok: true, value: "valid (the running document does not fit this node's file; no diff)")
            }
            let reply = DocumentReply()
            hand(.previewPlacement(c.resourcePolicy, reply: reply))
            let placement = reply.wait(seconds: 5)?.value ?? "placement: not previewed (the heartbeat loop did not answer)"
            return ControlAnswer(ok: true, value: ResourceChanges(from: old, to: c).text + "\n" + placement)
        }
        let reply = DocumentReply()
        hand(.applyDocument(Array(part.utf8), epoch: c.documentEpoch, reply: reply))
        return reply.wait(seconds: 5) ?? .refused("the heartbeat loop did not answer within 5 s")
    }
}
