// Quest (Tang et al., arXiv 2406.10774), Twilight (Lin et al., arXiv 2502.02770) and vAttention
// (Desai et al., arXiv 2510.05688) decode steps of ``CUDAAttention``.
import KascadeCore

extension CUDAAttention {
    /// Runs one sparse decode step of a peer method into `out [1, H, d]` fp32; false when the step is
    /// dense instead (prefill chunks, and Quest's and Twilight's first two layers).
    func attendPeer(layer: Int, queryCount T: Int, inputs p: DecodeInputs, geometry geo: AttentionGeometry,
                    out: UInt64) throws -> Bool {
        guard T == 1 else { return false }
        let N = p.length, H = geo.queryHeads, G = geo.kvHeads, d = geo.headDim
        let key = "\(H)/\(G)/\(d)"
        let kern: PeerDecodeKernels
        if let k = peerKernels[key] { kern = k } else {
            kern = try PeerDecodeKernels(device: device, compiler: compiler, dtype: dtype, headDim: d, queryHeads: H, kvHeads: G)
            peerKernels[key] = kern
        }
        let pages = (N + 15) / 16
        func pageView() throws(CUDAError) -> QuestPagesView {
            let bytes = QuestPagesView.bytes(batch: 1, kvHeads: G, pageCapacity: pages, headDim: d)
            let v = QuestPagesView(min: try buffer("pmin", bytes: bytes).address, max: try buffer("pmax", bytes: bytes).address,
                                   pageCapacity: pages)
            try kern.buildPages(p, pages: v, stream: stream)
            return v
        }
        let counts = try buffer("counts", bytes: H * 4)
        var read = 0
        switch method {
        case .quest(let budget):
            guard layer >= 2 else { return false }
            let keep = QuestAttention(budget: budget).pagesToKeep(contextLength: N)
            try kern.quest(p, pages: try pageView(), keep: keep, out: out, stream: stream)
            read = H * min(N, keep * 16)
            lastSelectionSizes = []
        case .twilight(let budget, let baseFraction, let topP):
            guard layer >= 2 else { return false }
            let b0 = TwilightAttention(budget: budget, baseFraction: baseFraction, topP: topP).candidateBudget(contextLength: N)
            let keep = min(pages, max(1, (b0 + 15) / 16))
            let ib = Int4KeysView.bytes(batch: 1, kvHeads: G, capacity: N, headDim: d)
            let keys = Int4KeysView(codes: try buffer("codes", bytes: ib.codes).address, scales: try buffer("scales", bytes: ib.perToken).address,
                                    zeros: try buffer("zeros", bytes: ib.perToken).address, capacity: N)
            try kern.quantize(p, keys: keys, stream: stream)
            try kern.twilight(p, pages: try pageView(), keys: keys, keep: keep, topP: topP, out: out, kept: counts.address, stream: stream)
            lastSelectionSizes = try counts.download(Int32.self, count: H).map { Int($0) }
            read = topP >= 1 ? H * min(N, keep * 16) : lastSelectionSizes.reduce(0, +)
        case .vattention(let budget, var config):
            config.layer = layer
            let k = budget.keys(outOf: N)
            try kern.vattention(p, config: config, topK: k, out: out, sampleSizes: counts.address, stream: stream)
            lastSelectionSizes = try counts.download(Int32.self, count: H).map { Int($0) }
            let s = min(config.sinks, N), middle = max(s, N - config.window) - s
            read = H * (N - middle + min(k, middle)) + lastSelectionSizes.reduce(0, +)
        case .dense, .kascade, .streaming:
            return false
        }
        stats.record(keys: Double(read), dense: Double(H * N))
        return true
    }
}
