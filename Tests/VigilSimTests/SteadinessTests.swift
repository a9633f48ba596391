import Testing
import VigilCore
import VigilSim

/// The daemon leaves datagrams queued while its node is steady (Node.steady, the receive hold).
/// That is safe only if every node that will miss a dead peer stops being steady before any node
/// declares it dead, and a steady cluster is steady most of the time (or the hold saves nothing).
@Suite struct SteadinessTests {
    private let n1 = NodeID(1), n2 = NodeID(2), n3 = NodeID(3)

    /// Samples every survivor's `steady` each millisecond over `span`, and notes the first
    /// peer_dead each one reports.
    private func watch(_ c: SteppedCluster, _ span: TimeSpan, then step: Step? = nil) -> (firstUnsteady: [NodeID: Instant], dead: [NodeID: Instant], steadyShare: [NodeID: Double]) {
        var dead: [NodeID: Instant] = [:]
        c.sim.observer = { t, n, notice in
            if case .peerDead = notice, dead[n] == nil { dead[n] = t }
        }
        if let step { c.sim.schedule(step, at: c.sim.now) }
        var firstUnsteady: [NodeID: Instant] = [:], steadyCount: [NodeID: Int] = [:]
        let samples = Int(span.nanoseconds / 1_000_000)
        var t = c.sim.now
        for _ in 0..<samples {
            t = t + .ms(1)
            c.sim.run(until: t)
            for n in [n1, n2] {
                if c.sim.node(n)?.steady == true { steadyCount[n, default: 0] += 1 } else if firstUnsteady[n] == nil { firstUnsteady[n] = t }
            }
        }
        c.sim.observer = nil
        return (firstUnsteady, dead, steadyCount.mapValues { Double($0) / Double(samples) })
    }

    @Test func aHealthyClusterIsSteadyAndEverySurvivorIsPromptBeforeADeathIsDeclared() {
        for seed: UInt64 in 1...5 {
            let c = SteppedCluster(resources: ResourcePolicy(units: []), seed: seed)
            let healthy = watch(c, .ms(500))
            for n in [n1, n2] {
                #expect(healthy.steadyShare[n, default: 0] > 0.9, "seed \(seed): \(n) steady only \(healthy.steadyShare[n, default: 0])")
            }
            #expect(healthy.dead.isEmpty)

            let cut = watch(c, .ms(300), then: .partition([[n1, n2], [n3]]))
            for n in [n1, n2] {
                guard let d = cut.dead[n], let u = cut.firstUnsteady[n] else {
                    Issue.record("seed \(seed): \(n) saw no death (\(cut.dead)) or was never unsteady")
                    continue
                }
                // At least one tick (10 ms) between the node turning prompt and the death.
                #expect(d - u >= .ms(9), "seed \(seed): \(n) unsteady at \(u), declared n3 dead at \(d)")
            }
            // Fenced (the lab's power device answers in 20-50 ms), the two settle down again.
            let after = watch(c, .seconds(1))
            for n in [n1, n2] {
                #expect(c.sim.node(n)?.view.members.count == 2)
                #expect(after.steadyShare[n, default: 0] > 0.5, "seed \(seed): \(n) steady \(after.steadyShare[n, default: 0]) after the fence")
            }
        }
    }
}
