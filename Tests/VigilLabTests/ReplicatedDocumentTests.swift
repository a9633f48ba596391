import VigilConfig
import VigilCore
@testable import VigilDaemon
import XCTest

/// The replicated document within a config file (VigilConfig/ReplicatedDocument.swift): which
/// sections it holds, a node's configuration made of its file and a document (errors at the
/// right file and line), and the copy a node starts with (VigilDaemon/State/DocumentStore.swift).
final class ReplicatedDocumentTests: XCTestCase {
    static let file = """
        # lab
        [cluster]
        id = 7
        key = "/etc/vigil/key"
        state_dir = "/var/lib/vigil/%n"

        [timing]
        interval = "10ms"

        [[link]]
        name = "a"
        mode = "unicast"
        port = 5405

        [[node]]
        id = 1
        name = "n1"
        addresses = ["198.18.0.1"]

        [[node]]
        id = 2
        name = "n2"
        addresses = ["198.18.0.2"]

        [[resource]]
        id = "web"
        agent = "ocf:heartbeat:Dummy"

        """

    func testTheDocumentHoldsTheSectionsTheClusterDecides() {
        let part = ReplicatedDocument.text(of: Self.file)
        XCTAssertTrue(part.hasPrefix("[[node]]\nid = 1"), part)
        XCTAssertTrue(part.contains("[[resource]]\nid = \"web\""))
        XCTAssertFalse(part.contains("[cluster]") || part.contains("[timing]") || part.contains("[[link]]"))
        let local = ReplicatedDocument.blank(Self.file, keepReplicated: false)
        XCTAssertEqual(local.split(separator: "\n", omittingEmptySubsequences: false).count,
                       Self.file.split(separator: "\n", omittingEmptySubsequences: false).count, "line numbers kept")
        XCTAssertTrue(local.contains("[timing]") && !local.contains("[[node]]"))
    }

    func testAFileAndADocumentMakeOneConfiguration() throws {
        var doc = ReplicatedDocument.text(of: Self.file)
        doc += "\n[[resource]]\nid = \"cache\"\nagent = \"ocf:heartbeat:Dummy\"\n\n[document]\nepoch = 3\n"
        let c = try ReplicatedDocument.merge(local: Self.file, localFile: "/etc/vigil/vigil.conf", document: doc, documentName: "document 1.2").get()
        XCTAssertEqual(c.resources.map(\.id), ["web", "cache"])
        XCTAssertEqual(c.timing.interval, .ms(10))
        XCTAssertEqual(c.documentEpoch, 3)
        XCTAssertEqual(c.file, "/etc/vigil/vigil.conf")
    }

    func testErrorsNameTheDocumentAndItsLine() {
        let doc = ReplicatedDocument.text(of: Self.file) + "\n[[resource]]\nid = \"cache\"\nagentt = \"x\"\n"
        let line = doc.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.hasPrefix("agentt") }! + 1
        guard case .failure(let d) = ReplicatedDocument.merge(local: Self.file, localFile: "/etc/vigil/vigil.conf", document: doc,
                                                              documentName: "/tmp/new.conf") else { return XCTFail("accepted") }
        XCTAssertEqual(d.file, "/tmp/new.conf")
        XCTAssertEqual(d.line, line)
        XCTAssertTrue(d.message.contains("agentt"), d.message)

        guard case .failure(let l) = ReplicatedDocument.merge(local: Self.file, localFile: "f", document: "[timing]\ninterval = \"20ms\"\n",
                                                              documentName: "doc") else { return XCTFail("accepted") }
        XCTAssertEqual("\(l.file):\(l.line)", "doc:1")
        XCTAssertTrue(l.message.contains("each node's own file"), l.message)
    }

    func testTheCopyANodeStartsWith() {
        let part = ReplicatedDocument.text(of: Self.file)
        let (seed, _) = DocumentStore.initial(saved: nil, fileText: Self.file, fileEpoch: 1)
        XCTAssertEqual(seed.stamp.version, DocumentVersion(epoch: 1, counter: 0), "seeded from the file")
        XCTAssertEqual(seed.bytes, Array(part.utf8))
        XCTAssertEqual(seed.fileBase, seed.stamp)

        // The cluster moved on to 1.4; the file is unchanged: the saved copy runs.
        let cluster = Array((part + "[[resource]]\nid = \"cache\"\nagent = \"ocf:heartbeat:Dummy\"\n").utf8)
        let saved = DocumentStore.Saved(stamp: DocumentStamp(version: DocumentVersion(epoch: 1, counter: 4), bytes: cluster),
                                        bytes: cluster, fileHash: seed.fileHash, fileBase: seed.stamp)
        XCTAssertEqual(DocumentStore.initial(saved: saved, fileText: Self.file, fileEpoch: 1).0, saved)

        // The file changed while the node was down: the saved copy still runs first (the file's
        // part is applied as a change once the view is quorate, against the base it was taken at).
        let edited = Self.file.replacingOccurrences(of: "id = \"web\"", with: "id = \"www\"")
        let (s, note) = DocumentStore.initial(saved: saved, fileText: edited, fileEpoch: 1)
        XCTAssertEqual(s, saved)
        XCTAssertTrue(note.contains("applied as a change"), note)
    }

    func testTheSavedFileReadsBack() {
        let b = Array("[[node]]\nid = 1\n".utf8)
        let stamp = DocumentStamp(version: DocumentVersion(epoch: 2, counter: 7), bytes: b)
        let s = DocumentStore.Saved(stamp: stamp, bytes: b, fileHash: 0xABC,
                                    fileBase: DocumentStamp(version: DocumentVersion(epoch: 1, counter: 3), hash: 0xDEF))
        XCTAssertEqual(DocumentStore.decode(Array(DocumentStore.encode(s).utf8)), s)
        var tampered = Array(DocumentStore.encode(s).utf8)
        tampered[tampered.count - 2] = UInt8(ascii: "2")
        XCTAssertNil(DocumentStore.decode(tampered), "a copy that does not match its hash is not taken")
    }
}
