/// The status page vigild serves on its metrics listener (`GET /`): the live view's picture
/// (Watch.swift) as HTML, the fence history and the latest events. Read-only: no form, no action.
/// The page is whole without JavaScript (rendered here); with it, the page follows `GET /events`
/// (server-sent events) and on each event fetches `GET /picture`, this same picture, again. No
/// external asset: style and script are inline; it reads well on a phone.
public enum StatusPage {
    public static func page(_ s: StatusSnapshot, events: [ClusterEvent], fences: [ClusterEvent]) -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Vigil: \(esc(s.cluster)) from \(esc(s.node.name))</title>
        <style>\(style)</style></head>
        <body>
        <div id="picture">\(picture(s, events: events, fences: fences))</div>
        <p class="foot">Read-only. <span id="live">Static picture: reload for a new one.</span></p>
        <script>\(script)</script>
        </body></html>

        """
    }

    /// The part the script replaces on every event.
    public static func picture(_ s: StatusSnapshot, events: [ClusterEvent], fences: [ClusterEvent]) -> String {
        var h = "<header><h1>\(esc(s.cluster)) <small>(id \(s.clusterId)) seen from \(esc(s.node.name))</small></h1>"
        if let v = s.view {
            let q = s.quorum
            h += "<p class=\"\(q.quorate ? "ok" : "bad")\" id=\"summary\">view \(v.epoch): \(v.members.count)/\(s.nodes.count) members, "
                + (q.quorate ? "quorate" : "NOT QUORATE") + " \(q.votes)/\(q.expectedVotes) votes (needs \(q.threshold))</p>"
        } else {
            h += "<p class=\"bad\" id=\"summary\">no view yet: listening for peers</p>"
        }
        for line in WatchScreen.header(s, clock: "").dropFirst(2) { h += "<p>\(esc(line))</p>" }
        h += "</header><section><h2>Nodes</h2><table id=\"nodes\"><tr><th>node</th><th>state</th>"
            + s.links.map { "<th>\(esc($0.name))</th>" }.joined() + "</tr>"
        for n in s.nodes {
            let cls = ["self", "member"].contains(n.state) ? "ok" : n.state == "alive" ? "warn" : "bad"
            h += "<tr id=\"node-\(esc(n.name))\" data-state=\"\(esc(n.state))\"><td>\(esc(n.name))</td><td class=\"state \(cls)\">\(esc(n.state))</td>"
            h += n.state == "self" ? s.links.map { _ in "<td>-</td>" }.joined() : n.links.map { l in
                let heard = l.lastHeardMsAgo.map { formatMs($0) + " ago" } ?? "never"
                return l.up ? "<td class=\"ok\">up, \(format1(l.lossPercent))% loss, \(heard)</td>" : "<td class=\"bad\">DOWN, heard \(heard)</td>"
            }.joined()
            h += "</tr>"
        }
        h += "</table></section>"
        if let rs = s.resources, !rs.isEmpty {
            h += "<section><h2>Resources</h2><table id=\"resources\"><tr><th>resource</th><th>on</th><th>each node</th><th>fail counts</th></tr>"
            for r in rs {
                let on = r.activeOn.isEmpty ? "stopped" : r.activeOn.map { "\($0) (\(r.nodes[$0] ?? "?"))" }.joined(separator: ", ")
                let each = r.nodes.sorted { $0.key < $1.key }.map { esc("\($0.key): \($0.value)") }.joined(separator: "<br>")
                let fails = r.failCounts.isEmpty ? "-" : r.failCounts.sorted { $0.key < $1.key }
                    .map { "\($0.key): " + StatusSnapshot.failCount($0.value) }.joined(separator: ", ")
                h += "<tr id=\"resource-\(esc(r.id))\"><td>\(esc(r.id))\(r.clone == nil ? "" : " (clone)")</td><td>\(esc(on))</td>"
                    + "<td>\(each)</td><td>\(esc(fails))</td></tr>"
            }
            h += "</table></section>"
        }
        let fencing = WatchScreen.fencingLines(s).filter { !$0.isEmpty }
        if !fencing.isEmpty { h += "<section><h2>Fencing now</h2>" + fencing.map { "<p class=\"bad\">\(esc($0))</p>" }.joined() + "</section>" }
        h += "<section><h2>Fence history</h2>"
        if fences.isEmpty {
            h += "<p>no fence results recorded</p>"
        } else {
            h += "<table id=\"fences\"><tr><th>time</th><th>target</th><th>result</th><th>by</th><th>took</th></tr>"
            for f in fences.suffix(20).reversed() {
                h += "<tr><td>\(esc(f.time))</td><td>\(esc(f.peer ?? "?"))</td><td class=\"\(f.result == "success" ? "ok" : "bad")\">\(esc(f.result ?? "?"))</td>"
                    + "<td>\(esc(f.executor ?? "?"))</td><td>\(f.tookMs.map(formatMs) ?? "-")</td></tr>"
            }
            h += "</table>"
        }
        h += "</section><section><h2>Latest events</h2><ol id=\"events\" reversed>"
        for e in events.suffix(30).reversed() { h += "<li>\(esc(WatchScreen.eventLine(e)))</li>" }
        return h + "</ol></section>"
    }

    /// Text for HTML or XML (crm_mon's XML uses it too).
    public static func esc(_ s: String) -> String {
        var o = ""
        for c in s {
            switch c {
            case "&": o += "&amp;"
            case "<": o += "&lt;"
            case ">": o += "&gt;"
            case "\"": o += "&quot;"
            default: o.append(c)
            }
        }
        return o
    }

    static let style = """
        body{font-family:system-ui,sans-serif;margin:0 auto;max-width:60em;padding:.5em;color:#222}
        h1{font-size:1.3em;margin:.3em 0}h1 small{font-weight:normal;color:#666}h2{font-size:1.05em;margin:1em 0 .3em}
        table{border-collapse:collapse;width:100%;font-size:.9em}th,td{text-align:left;padding:.25em .4em;border-bottom:1px solid #ddd;vertical-align:top}
        .ok{color:#176f2c}.warn{color:#8a6100}.bad{color:#b00020;font-weight:bold}
        ol{font-family:ui-monospace,monospace;font-size:.8em;padding-left:3em}.foot{color:#666;font-size:.8em}
        @media (max-width:40em){table{font-size:.8em}th,td{padding:.2em}}
        """

    static let script = """
        (function(){if(!window.EventSource||!window.fetch)return;var live=document.getElementById('live');
        var busy=false,again=false;function refresh(){if(busy){again=true;return}busy=true;
        fetch('picture',{cache:'no-store'}).then(function(r){return r.text()}).then(function(t){
        document.getElementById('picture').innerHTML=t}).catch(function(){}).then(function(){busy=false;if(again){again=false;refresh()}})}
        var es=new EventSource('events');es.onopen=function(){live.textContent='Live: following events.'};
        es.onmessage=function(){refresh()};es.onerror=function(){live.textContent='Disconnected: retrying.'};
        setInterval(refresh,5000)})();
        """
}
