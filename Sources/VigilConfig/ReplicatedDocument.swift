import VigilCore

/// The replicated document within a config file, and a node's configuration made of its own
/// file's local part and the cluster's document (issue 14; VigilCore's DocumentSync.swift).
///
/// What the cluster decides together is the document: `[[node]]`, `[quorum]`, the fencing
/// sections, the resources with their groups, clones, orders and rules, `[[alert]]`, and
/// `[document]` (its operator `epoch`). What a node needs before it can talk stays in its own
/// file: `[cluster]` (id, key, name, state directory, node health), `[[link]]`, `[timing]`.
/// The document is text in today's format: the replicated sections as an operator wrote them.
public enum ReplicatedDocument {
    public static func isReplicated(_ section: String) -> Bool {
        if section == "document" { return true }
        guard let p = ConfigDocument.part(of: section) else { return false }
        return p != .links && p != .timing
    }

    /// The section each line falls in (from its header to the line before the next header);
    /// lines before the first header are in none.
    static func sections(of lines: [Substring]) -> [String?] {
        var current: String?
        return lines.map { raw in
            let l = ConfigDocument.stripComment(raw).trimmingSpaces
            if l.hasPrefix("[") { current = String(Substring(String(l.filter { $0 != "[" && $0 != "]" })).trimmingSpaces) }
            return current
        }
    }

    private static func lines(_ text: String) -> [Substring] { text.split(separator: "\n", omittingEmptySubsequences: false) }

    /// The document part of a config file: its replicated sections, in order, as written.
    public static func text(of file: String) -> String {
        let ls = lines(file)
        let kept = zip(ls, sections(of: ls)).filter { $0.1.map(isReplicated) == true }.map(\.0)
        return kept.joined(separator: "\n") + (kept.isEmpty ? "" : "\n")
    }

    /// The file with the lines of one kind of section blanked (line numbers kept): its local part
    /// (`replicated` false keeps the local sections), or its document part.
    public static func blank(_ file: String, keepReplicated: Bool) -> String {
        let ls = lines(file)
        return zip(ls, sections(of: ls)).map { ($0.1.map(isReplicated) ?? false) == keepReplicated ? String($0.0) : "" }
            .joined(separator: "\n")
    }

    /// A stable hash of a document's text (what a node read from its file, to tell at the next
    /// start or reload whether the file's part changed).
    public static func hash(_ text: String) -> UInt64 {
        var h = ConfigDigest.Hasher()
        h.add(text)
        return h.value
    }

    /// A diagnostic about a merged configuration (`merge`; a line number a `ResourceSpec` keeps)
    /// at the document's own line when it falls in the document.
    public static func remap(_ d: Diagnostic, local: String, documentName: String) -> Diagnostic {
        let offset = lines(local).count
        guard d.line > offset else { return d }
        var r = d
        (r.file, r.line) = (documentName, d.line - offset)
        return r
    }

    /// A node's configuration: its file's local part and the document. Errors name the file or
    /// `documentName` and the line there; a local section in the document is an error.
    public static func merge(local: String, localFile: String, document: String, documentName: String)
        -> Result<ClusterConfig, Diagnostic> {
        let docLines = lines(document)
        for (i, s) in sections(of: docLines).enumerated() where s.map(isReplicated) == false {
            return .failure(Diagnostic(file: documentName, line: i + 1, severity: .error,
                                       message: "[\(s!)] belongs to each node's own file, not to the cluster's document",
                                       fix: "keep [cluster], [[link]] and [timing] in vigil.conf on every node"))
        }
        let localPart = blank(local, keepReplicated: false)
        func remap(_ d: Diagnostic) -> Diagnostic { ReplicatedDocument.remap(d, local: local, documentName: documentName) }
        return ClusterConfig.load(text: localPart + "\n" + document, file: localFile)
            .map { c in
                var c = c
                c.warnings = c.warnings.map(remap)
                return c
            }
            .mapError(remap)
    }
}
