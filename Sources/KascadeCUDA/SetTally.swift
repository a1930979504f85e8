/// Agreement between the GPU's selected sets and the CPU's, summed over heads, with near-ties forgiven:
/// a key (or page) only one side chose counts as a hard mismatch when its CPU score is not within a
/// small tolerance of the CPU's threshold.
struct SetTally {
    private var agreement = 0.0
    private var sets = 0
    private(set) var hard = 0
    private(set) var valid = true
    /// The first hard mismatches, described for the row's note.
    private(set) var firstHard: [String] = []

    private mutating func mismatch(_ what: @autoclosure () -> String) {
        hard += 1
        if firstHard.count < 3 { firstHard.append(what()) }
    }

    /// Quest pages: the current page on both sides, equal counts, full pages compared by score.
    /// Returns whether the two sides chose the same pages.
    @discardableResult
    mutating func pages(gpu: [Int32], cpu: [Int32], scores: [Float], pages: Int, countOnly: Bool = false) -> Bool {
        guard gpu.count == cpu.count, gpu.contains(Int32(pages - 1)) else { valid = false; return false }
        let ref = Set(cpu)
        let chosen = cpu.filter { Int($0) < pages - 1 }.map { scores[Int($0)] }
        let kth = chosen.min() ?? 0
        let tol = 1e-4 * max(abs(kth), 1)
        var same = 0
        for p in gpu {
            if ref.contains(p) { same += 1; continue }
            if Int(p) >= scores.count || abs(scores[Int(p)] - kth) > tol {
                mismatch("page \(p) score \(Int(p) < scores.count ? scores[Int(p)] : .nan), k-th \(kth)")
            }
        }
        if !countOnly { agreement += Double(same) / Double(max(cpu.count, 1)); sets += 1 }
        return same == cpu.count
    }

    /// Twilight's kept keys against the CPU's top-p over the same candidates (the GPU's). A key only
    /// one side kept is a near-tie when its weight is within 1e-3 of the threshold, or when the mass
    /// of the heavier candidates is within 1e-4 of `topP` (whether it is still needed then depends on
    /// the order of a float sum); a kept key that is not a candidate is a mismatch.
    mutating func kept(gpu: [Int32], cpu: PeerReference.TwilightHead, topP: Float) {
        var weight: [Int32: Float] = [:]
        for (p, w) in zip(cpu.positions, cpu.weights) { weight[p] = w }
        let total = cpu.weights.reduce(0.0) { $0 + Double($1) }
        let g = Set(gpu), c = Set(cpu.kept)
        for p in g.symmetricDifference(c) {
            let side = g.contains(p) ? "GPU" : "CPU"
            guard let w = weight[p] else { mismatch("position \(p) (\(side) only) not a candidate"); continue }
            if abs(w - cpu.theta) <= 1e-3 * cpu.theta + 1e-6 { continue }
            let heavier = cpu.weights.reduce(0.0) { $1 > w ? $0 + Double($1) : $0 } / max(total, .leastNormalMagnitude)
            if abs(heavier - Double(topP)) > 1e-4 {
                mismatch("position \(p) (\(side) only) weight \(w), theta \(cpu.theta), heavier mass \(heavier)")
            }
        }
        agreement += Double(g.intersection(c).count) / Double(max(c.count, 1))
        sets += 1
    }

    /// vAttention's predicted top-k of the middle keys (scores indexed from `offset`) and its fixed part.
    mutating func topK(gpu: [Int32], cpu: [Int32], scores: [Float], offset: Int, fixed: Int, expectedFixed: Int) {
        guard gpu.count == cpu.count, fixed == expectedFixed else { valid = false; return }
        let ref = Set(cpu)
        let kth = cpu.map { scores[Int($0) - offset] }.min() ?? 0
        var same = 0
        for p in gpu {
            if ref.contains(p) { same += 1; continue }
            if abs(scores[Int(p) - offset] - kth) > 1e-4 * abs(kth) + 1e-5 { hard += 1 }
        }
        agreement += Double(same) / Double(max(cpu.count, 1))
        sets += 1
    }

    /// The check row: passes when the error is within ``PeerCheck/tolerance``, sets are valid and only near-ties differ.
    func row(_ kernel: String, _ shape: String, _ err: Double, k: Int, note: String) -> DecodeCheckRow {
        var r = DecodeCheckRow(kernel: kernel, shape: shape, relError: err, agreement: sets > 0 ? agreement / Double(sets) : 1,
                               hardMismatches: hard, k: k, passed: true, note: note)
        if !(err <= PeerCheck.tolerance) { r.passed = false; r.note += "; output error \(err)" }
        if !valid { r.passed = false; r.note += "; invalid set" }
        if hard > 0 { r.passed = false; r.note += "; \(hard) non-tie mismatches (" + firstHard.joined(separator: "; ") + ")" }
        return r
    }
}
