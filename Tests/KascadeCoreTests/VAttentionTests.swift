import Testing
@testable import KascadeCore

@Suite("vAttention")
struct VAttentionTests {
    /// A context where sampling happens: small sinks and window, a small top-k, values with a common
    /// direction (as in trained models) so the numerator bound is reachable.
    static let sampledShape = PeerShape(queryHeads: 4, kvHeads: 2, headDim: 16, length: 3000)

    static func sampler(seed: UInt64, predictor: VAttentionPredictor = .topK, epsilon: Double = 0.1,
                        delta: Double = 0.1) throws -> VAttention {
        VAttention(budget: try Budget(fraction: 0.01, kMin: 0), sinks: 16, window: 16, epsilon: epsilon,
                   delta: delta, predictor: predictor, seed: seed)
    }

    @Test("equals dense when the budget covers the context, decode and prefill",
          arguments: PeerShape.all, VAttentionPredictor.allCases)
    func fullBudgetIsDense(shape: PeerShape, predictor: VAttentionPredictor) throws {
        let fixture = try PeerFixture(shape, seed: 13)
        for (sinks, window) in [(128, 128), (2, 3), (0, 0)] {
            let v = VAttention(budget: .full, sinks: sinks, window: window, predictor: predictor, seed: 1)
            let err = try fixture.compareWithDense(v, layer: 1, seed: 6)
            #expect(err.decode < 1e-5)
            #expect(err.prefill < 1e-5)
            #expect(v.stats.readFraction == 1)
        }
    }

    @Test("inverse normal CDF matches known quantiles and inverts Phi")
    func inverseNormal() {
        let known: [(Double, Double)] = [(0.5, 0), (0.975, 1.959963984540054), (0.995, 2.5758293035489004),
                                         (0.9, 1.2815515655446004), (0.001, -3.090232306167813),
                                         (1e-10, -6.361340902404056), (0.02425, -1.9729610513118845),
                                         (1 - 1e-9, 5.997807019601638)]
        for (p, x) in known {
            #expect(abs(VAttentionNormal.inverseCDF(p) - x) <= 1e-9 * max(1, abs(x)))
        }
        var rng = PeerRandom(3)
        for _ in 0..<2000 {
            let p = rng.uniform()
            let x = VAttentionNormal.inverseCDF(p)
            #expect(abs(VAttentionNormal.cdf(x) - p) <= 1e-12)
            #expect(abs(VAttentionNormal.inverseCDF(1 - p) + x) <= 1e-8 * max(1, abs(x)))
        }
        #expect(VAttentionNormal.inverseCDF(0) == -.infinity && VAttentionNormal.inverseCDF(1) == .infinity)
        #expect(VAttentionNormal.inverseCDF(1.5).isNaN)
    }

    @Test("the generator is reproducible, in range and roughly uniform")
    func generator() {
        var a = VAttentionRandom(seed: 7, stream: 1, 2, 3), b = VAttentionRandom(seed: 7, stream: 1, 2, 3)
        var c = VAttentionRandom(seed: 7, stream: 1, 2, 4)
        let xa = (0..<100).map { _ in a.next() }
        #expect(xa == (0..<100).map { _ in b.next() })
        #expect(xa != (0..<100).map { _ in c.next() })
        var counts = [Int](repeating: 0, count: 10)
        for _ in 0..<20_000 { counts[a.next(below: 10)] += 1 }
        // Chi-square with 9 degrees of freedom; 27.9 is its 0.999 quantile.
        let chi2 = counts.reduce(0.0) { $0 + (Double($1) - 2000) * (Double($1) - 2000) / 2000 }
        #expect(chi2 < 27.9)
    }

    @Test("required sample size follows b >= (z n_s sigma / tau)^2")
    func requiredSamples() {
        #expect(VAttention.requiredSamples(population: 1000, sigma: 0, tau: 1, z: 2) == 0)
        #expect(VAttention.requiredSamples(population: 1000, sigma: 1, tau: 0, z: 2) == 1000)
        #expect(VAttention.requiredSamples(population: 1000, sigma: 0.01, tau: 1, z: 2) == 400)
        #expect(VAttention.requiredSamples(population: 1000, sigma: 0.0101, tau: 1, z: 2) == 409)
        #expect(VAttention.requiredSamples(population: 1000, sigma: 1, tau: 1, z: 2) == 1000)
    }

    @Test("one seed gives identical output, another seed a different one", arguments: VAttentionPredictor.allCases)
    func seeded(predictor: VAttentionPredictor) throws {
        let fixture = try PeerFixture(Self.sampledShape, seed: 23, valueMean: 1)
        let q = fixture.queries(1, seed: 4)
        let n = Self.sampledShape.length
        let one = try fixture.run(Self.sampler(seed: 5, predictor: predictor), layer: 0, queries: q, count: 1, length: n)
        let same = try fixture.run(Self.sampler(seed: 5, predictor: predictor), layer: 0, queries: q, count: 1, length: n)
        let other = try Self.sampler(seed: 6, predictor: predictor)
        let different = try fixture.run(other, layer: 0, queries: q, count: 1, length: n)
        #expect(one == same)
        #expect(one != different)
        #expect(other.meanSampleSize > 0 && other.meanSampleSize < other.meanResidualSize)
        #expect(other.stats.readFraction < 1)
    }

    @Test("sample size meets the bound from the pilot, and the output is the weighted estimate over the sets",
          arguments: VAttentionPredictor.allCases, [0.1, 0.2])
    func sampleSizeAndEstimate(predictor: VAttentionPredictor, epsilon: Double) throws {
        let shape = Self.sampledShape
        let fixture = try PeerFixture(shape, seed: 24, valueMean: 1)
        let v = try Self.sampler(seed: 9, predictor: predictor, epsilon: epsilon, delta: 0.05)
        v.recordsTraces = true
        let q = fixture.queries(1, seed: 5)
        let n = shape.length, d = shape.headDim
        let out = try fixture.run(v, layer: 3, queries: q, count: 1, length: n)
        let z = VAttentionNormal.inverseCDF(1 - 0.05 / 2)
        let scale = 1 / Double(d).squareRoot()
        var expected = [Double]()
        #expect(v.traces.count == shape.queryHeads)
        for trace in v.traces {
            let h = trace.head, g = fixture.geo.kvHead(ofQueryHead: h), r = trace.record
            let qh = q[(h * d)..<((h + 1) * d)]
            let det = trace.deterministic.map(Int.init), sample = trace.sample.map(Int.init)
            // Sets: sinks and window deterministic; population and deterministic set partition 0..<N.
            #expect(Set(0..<16).isSubset(of: det) && Set((n - 16)..<n).isSubset(of: det))
            #expect((det + trace.population.map(Int.init)).sorted() == Array(0..<n))
            #expect(Set(sample).count == sample.count && Set(sample).isSubset(of: trace.population.map(Int.init)))
            #expect(r.residual == trace.population.count && r.sampled == sample.count)
            #expect(r.pilot == VAttention.pilotSamples && r.pilot <= r.sampled && r.sampled < r.residual)
            // The predicted part: the exact top-k of the middle keys, or the keys of the top Quest pages.
            let middle = 16..<(n - 16), k = min(v.budget.keys(outOf: n), middle.count)
            let predicted = det.filter { middle.contains($0) }
            let qd = qh.map(Double.init)
            if predictor == .topK {
                let score = { (p: Int) in zip(qd, fixture.key(g, p)).reduce(0.0) { $0 + $1.0 * Double($1.1) } }
                let want = middle.sorted { score($0) > score($1) }.prefix(k).sorted()
                #expect(predicted == want)
            } else {
                let pages = (16 / 16)...((n - 17) / 16)
                let bound = { (page: Int) -> Float in
                    let rows = (page * 16..<min(n, page * 16 + 16)).map { Array(fixture.key(g, $0)) }
                    let lo = (0..<d).map { i in rows.map { $0[i] }.min()! }, hi = (0..<d).map { i in rows.map { $0[i] }.max()! }
                    return QuestAttention.pageScore(query: Array(qh), minKey: lo, maxKey: hi, headDim: d)
                }
                let top = pages.sorted { bound($0) != bound($1) ? bound($0) > bound($1) : $0 < $1 }.prefix((k + 15) / 16)
                #expect(predicted == top.sorted().flatMap { p in (p * 16..<(p * 16 + 16)).filter { middle.contains($0) } })
            }
            // The bound, recomputed in float64 from the pilot (a prefix of the sample).
            func term(_ pos: Int) -> (e: Double, x: [Double]) {
                let s = zip(qh, fixture.key(g, pos)).reduce(0.0) { $0 + Double($1.0) * Double($1.1) } * scale
                let e = peerExp(s)
                return (e, fixture.value(g, pos).map { e * Double($0) })
            }
            let pilot = sample.prefix(r.pilot).map(term)
            let bp = Double(r.pilot), ns = Double(r.residual)
            let meanE = pilot.reduce(0.0) { $0 + $1.e } / bp
            let varE = pilot.reduce(0.0) { $0 + ($1.e - meanE) * ($1.e - meanE) } / (bp - 1)
            let meanX = (0..<d).map { i in pilot.reduce(0.0) { $0 + $1.x[i] } / bp }
            let varX = pilot.reduce(0.0) { acc, t in acc + zip(t.x, meanX).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } } / (bp - 1)
            let detTerms = det.map(term)
            let dHat = detTerms.reduce(0.0) { $0 + $1.e } + ns * meanE
            let nHat = (0..<d).map { i in detTerms.reduce(0.0) { $0 + $1.x[i] } + ns * meanX[i] }
            let nNorm = nHat.reduce(0.0) { $0 + $1 * $1 }.squareRoot()
            let needD = (z * ns * varE.squareRoot() / (epsilon * dHat)) * (z * ns * varE.squareRoot() / (epsilon * dHat))
            let needN = (z * ns * varX.squareRoot() / (epsilon * nNorm)) * (z * ns * varX.squareRoot() / (epsilon * nNorm))
            #expect(Double(r.sampled) >= min(ns, max(needD, needN)) * (1 - 1e-3))
            #expect(Double(r.sampled) <= max(bp, max(needD, needN) * (1 + 1e-3)) + 1)
            // The estimate with weight n_s / b on sampled terms.
            let w = ns / Double(r.sampled)
            expected += fixture.reference(query: qh, g: g, positions: det + sample,
                                          weights: det.map { _ in 1 } + sample.map { _ in w })
        }
        #expect(PeerFixture.relativeError(out, expected, headDim: d) < 1e-4)
        #expect(v.meanSampleSize == Double(v.traces.reduce(0) { $0 + $1.record.sampled }) / Double(shape.queryHeads))
    }

    @Test("the mean over many seeds converges to dense, and single seeds meet the stated bound",
          arguments: VAttentionPredictor.allCases)
    func unbiased(predictor: VAttentionPredictor) throws {
        let shape = PeerShape(queryHeads: 2, kvHeads: 1, headDim: 16, length: 2000)
        let fixture = try PeerFixture(shape, seed: 25, valueMean: 1)
        let q = fixture.queries(1, seed: 6)
        let n = shape.length, d = shape.headDim
        let dense = try fixture.run(DenseAttention(), layer: 0, queries: q, count: 1, length: n)
        let epsilon = 0.1, delta = 0.1, seeds = 300
        let bound = 2 * epsilon / (1 - epsilon)
        var mean = [Double](repeating: 0, count: dense.count)
        var misses = 0, worst = 0.0, sampled = 0.0
        for s in 0..<seeds {
            let v = try Self.sampler(seed: UInt64(s), predictor: predictor, epsilon: epsilon, delta: delta)
            let out = try fixture.run(v, layer: 0, queries: q, count: 1, length: n)
            let err = PeerFixture.relativeError(out, dense, headDim: d)
            worst = max(worst, err)
            if err > bound { misses += 1 }
            for i in 0..<out.count { mean[i] += Double(out[i]) / Double(seeds) }
            sampled += v.meanSampleSize / v.meanResidualSize / Double(seeds)
        }
        let meanErr = PeerFixture.relativeError(mean.map(Float.init), dense, headDim: d)
        // Each seed misses the bound with probability at most about 2 delta; allow 4 binomial sd.
        let p = 2 * delta, sd = (Double(seeds) * p * (1 - p)).squareRoot()
        #expect(Double(misses) <= Double(seeds) * p + 4 * sd)
        #expect(meanErr < bound / 20)
        #expect(sampled < 0.9)
    }

    @Test("prefill chunks run dense")
    func prefillIsDense() throws {
        let fixture = try PeerFixture(PeerShape(queryHeads: 4, kvHeads: 2, headDim: 16, length: 900), seed: 26)
        let qs = fixture.queries(6, seed: 3)
        let v = try Self.sampler(seed: 1)
        let got = try fixture.run(v, layer: 2, queries: qs, count: 6, length: 900)
        let want = try fixture.run(DenseAttention(), layer: 2, queries: qs, count: 6, length: 900)
        #expect(PeerFixture.relativeError(got, want, headDim: 16) < 1e-5)
        #expect(v.sampledSteps == 0)
    }
}
