extension VAttention {
    /// Offsets of one head's scratch, in elements, for a context of `N` keys.
    struct HeadScratchLayout {
        // Floats.
        let middleScores: Int, detScores: Int, pilotScores: Int, accDet: Int, accSample: Int, pageScores: Int
        let floats: Int
        // Int32s.
        let deterministic: Int, residual: Int, topScratch: Int, top: Int, pageOrder: Int, chosenPages: Int
        let ints: Int

        init(length n: Int, headDim d: Int, pageSize: Int) {
            let pages = (n + pageSize - 1) / pageSize
            middleScores = 0
            detScores = n
            pilotScores = 2 * n
            accDet = pilotScores + VAttention.pilotSamples
            accSample = accDet + d
            pageScores = accSample + d
            floats = pageScores + pages
            deterministic = 0
            residual = n
            topScratch = 2 * n
            top = 3 * n
            pageOrder = 4 * n
            chosenPages = pageOrder + pages
            ints = chosenPages + pages
        }
    }

    /// One query head's decode step: builds the deterministic set and the residual population,
    /// draws the pilot and the rest of the sample, and writes the estimate to `out` (`d` floats).
    func attendHead(q: UnsafePointer<Float>, kv: KVCacheView, g: Int, table: QuestPageTable?, z: Double,
                    rng: inout VAttentionRandom, layout: HeadScratchLayout,
                    floats: UnsafeMutablePointer<Float>, ints: UnsafeMutablePointer<Int32>,
                    out: UnsafeMutablePointer<Float>) -> VAttentionHeadRecord {
        let N = kv.length, d = kv.geometry.headDim, scale = kv.geometry.scale
        let s = min(sinks, N), wStart = max(s, N - window), middle = wStart - s
        let det = ints + layout.deterministic, res = ints + layout.residual, top = ints + layout.top

        // Predicted top-k of the middle keys, ascending absolute positions.
        let kTop = min(budget.keys(outOf: N), middle)
        var nTop = 0
        if kTop >= middle {
            for p in s..<wStart { top[nTop] = Int32(p); nTop += 1 }
        } else if kTop > 0 {
            switch predictor {
            case .topK:
                let ms = floats + layout.middleScores
                for j in 0..<middle { ms[j] = VAttention.dot(q, kv.key(g, s + j), d) }
                TopK.select(scores: ms, count: middle, k: kTop, scratch: ints + layout.topScratch, into: top)
                for j in 0..<kTop { top[j] += Int32(s) }
                nTop = kTop
            case .questPages:
                guard let table else { preconditionFailure("the questPages predictor needs a page table") }
                let first = s / pageSize, last = (wStart - 1) / pageSize, pages = last - first + 1
                let ps = floats + layout.pageScores
                for p in 0..<pages {
                    ps[p] = QuestAttention.pageScore(query: q, minKey: table.minKey(g, first + p),
                                                     maxKey: table.maxKey(g, first + p), headDim: d)
                }
                let keep = min(pages, (kTop + pageSize - 1) / pageSize)
                let chosen = ints + layout.chosenPages
                TopK.select(scores: ps, count: pages, k: keep, scratch: ints + layout.pageOrder, into: chosen)
                for c in 0..<keep {
                    let start = (first + Int(chosen[c])) * pageSize
                    for p in max(s, start)..<min(wStart, start + pageSize) { top[nTop] = Int32(p); nTop += 1 }
                }
            }
        }

        // Deterministic set (sinks, top, window) and the residual population.
        var nd = 0, nr = 0, ti = 0
        for p in 0..<s { det[nd] = Int32(p); nd += 1 }
        for p in s..<wStart {
            if ti < nTop && top[ti] == Int32(p) {
                det[nd] = Int32(p); nd += 1; ti += 1
            } else {
                res[nr] = Int32(p); nr += 1
            }
        }
        for p in wStart..<N { det[nd] = Int32(p); nd += 1 }

        // Scores of the deterministic set and the pilot, and their common offset.
        let detScores = floats + layout.detScores, pilotScores = floats + layout.pilotScores
        var m = -Float.infinity
        for j in 0..<nd {
            let sc = VAttention.dot(q, kv.key(g, Int(det[j])), d) * scale
            detScores[j] = sc
            m = max(m, sc)
        }
        let pilot = min(nr, VAttention.pilotSamples)
        for i in 0..<pilot {
            let j = i + rng.next(below: nr - i)
            (res[i], res[j]) = (res[j], res[i])
            let sc = VAttention.dot(q, kv.key(g, Int(res[i])), d) * scale
            pilotScores[i] = sc
            m = max(m, sc)
        }

        let accDet = floats + layout.accDet, accSample = floats + layout.accSample
        accDet.update(repeating: 0, count: d)
        accSample.update(repeating: 0, count: d)
        var denDet: Float = 0, denSample: Float = 0
        for j in 0..<nd {
            let e = (detScores[j] - m).exp
            denDet += e
            VAttention.axpy(accDet, e, kv.value(g, Int(det[j])), d)
        }
        var sumE2 = 0.0, sumX2 = 0.0
        for i in 0..<pilot {
            let e = (pilotScores[i] - m).exp
            let v = kv.value(g, Int(res[i]))
            denSample += e
            VAttention.axpy(accSample, e, v, d)
            let e2 = Double(e) * Double(e)
            sumE2 += e2
            sumX2 += e2 * Double(VAttention.dot(v, v, d))
        }

        var record = VAttentionHeadRecord(deterministic: nd, residual: nr, pilot: pilot, sampled: pilot)
        if nr > pilot {
            let bp = Double(pilot)
            var sampleNorm2 = 0.0, estimateNorm2 = 0.0
            for i in 0..<d {
                let a = Double(accSample[i])
                sampleNorm2 += a * a
                let est = Double(accDet[i]) + Double(nr) * a / bp
                estimateNorm2 += est * est
            }
            let varD = max(0, (sumE2 - Double(denSample) * Double(denSample) / bp) / (bp - 1))
            let varN = max(0, (sumX2 - sampleNorm2 / bp) / (bp - 1))
            record.sigmaDenominator = varD.squareRoot()
            record.sigmaNumerator = varN.squareRoot()
            record.tauDenominator = epsilon * (Double(denDet) + Double(nr) * Double(denSample) / bp)
            record.tauNumerator = epsilon * estimateNorm2.squareRoot()
            let bD = VAttention.requiredSamples(population: nr, sigma: record.sigmaDenominator,
                                                tau: record.tauDenominator, z: z)
            let bN = VAttention.requiredSamples(population: nr, sigma: record.sigmaNumerator,
                                                tau: record.tauNumerator, z: z)
            let b = min(nr, max(pilot, bD, bN))
            for i in pilot..<b {
                let j = i + rng.next(below: nr - i)
                (res[i], res[j]) = (res[j], res[i])
                let sc = VAttention.dot(q, kv.key(g, Int(res[i])), d) * scale
                if sc > m {
                    let r = (m - sc).exp
                    denDet *= r
                    denSample *= r
                    VAttention.scaleInPlace(accDet, r, d)
                    VAttention.scaleInPlace(accSample, r, d)
                    m = sc
                }
                let e = (sc - m).exp
                denSample += e
                VAttention.axpy(accSample, e, kv.value(g, Int(res[i])), d)
            }
            record.sampled = b
        }
        let w: Float = record.sampled > 0 ? Float(nr) / Float(record.sampled) : 0
        let inv = 1 / (denDet + w * denSample)
        for i in 0..<d { out[i] = (accDet[i] + w * accSample[i]) * inv }
        return record
    }

    /// `a . b` over `d` floats.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ d: Int) -> Float {
        var acc = SIMD8<Float>()
        var i = 0
        while i + 8 <= d {
            // `a * b + acc`, not `addProduct`: without FMA in the target the latter calls `fmaf` per lane.
            acc += UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self)
                * UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
            i += 8
        }
        var s = acc.sum()
        while i < d { s += a[i] * b[i]; i += 1 }
        return s
    }

    /// `y += a * x` over `d` floats.
    @inline(__always)
    static func axpy(_ y: UnsafeMutablePointer<Float>, _ a: Float, _ x: UnsafePointer<Float>, _ d: Int) {
        var i = 0
        while i + 8 <= d {
            let yy = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
            let xx = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(y + i).storeBytes(of: yy + a * xx, as: SIMD8<Float>.self)
            i += 8
        }
        while i < d { y[i] += a * x[i]; i += 1 }
    }

    /// `y *= a` over `d` floats.
    @inline(__always)
    static func scaleInPlace(_ y: UnsafeMutablePointer<Float>, _ a: Float, _ d: Int) {
        for i in 0..<d { y[i] *= a }
    }
}
