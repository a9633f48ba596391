import VigilCore

/// A min-heap of timed items; ties broken by insertion order so every run replays exactly.
/// The heap moves small entries (time, order, slot); the items themselves (frames, steps with
/// whole resource policies) stay in their slot until popped, so a sift moves no payload and
/// retains nothing (at 64 nodes the payload copies were a fifth of the simulator's time).
struct EventQueue<Item> {
    private struct Entry {
        let time: Instant
        let order: UInt64
        let slot: Int
        func before(_ o: Entry) -> Bool { (time, order) < (o.time, o.order) }
    }
    private var heap: [Entry] = []
    private var items: [Item?] = []
    private var free: [Int] = []
    private var counter: UInt64 = 0

    var isEmpty: Bool { heap.isEmpty }
    var nextTime: Instant? { heap.first?.time }

    mutating func push(_ item: Item, at time: Instant) {
        counter += 1
        let slot: Int
        if let s = free.popLast() {
            slot = s
            items[s] = item
        } else {
            slot = items.count
            items.append(item)
        }
        heap.append(Entry(time: time, order: counter, slot: slot))
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard heap[i].before(heap[parent]) else { break }
            heap.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> (Instant, Item)? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let top = heap.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < heap.count && heap[l].before(heap[m]) { m = l }
            if r < heap.count && heap[r].before(heap[m]) { m = r }
            if m == i { break }
            heap.swapAt(i, m)
            i = m
        }
        guard let item = items[top.slot] else { preconditionFailure("a queued slot holds its item") }
        items[top.slot] = nil
        free.append(top.slot)
        return (top.time, item)
    }
}
