import Foundation

/// An SVG heatmap of Kascade's layer-to-layer similarity `sim[i][j]` (anchor layer `i` down, reuse
/// layer `j` across), with the chosen anchors marked; no dependencies.
public enum SimilarityHeatmap {
    /// The SVG text. Cells with `i > j` or a non-finite value are left blank; colour runs from white
    /// (the smallest value shown) to dark blue (the largest). Anchor rows are outlined in red and
    /// each layer's serving cell `(a(j), j)` gets a dot.
    public static func svg(sim: [[Double]], anchors: [Int], title: String = "Kascade layer similarity") -> String {
        let L = sim.count
        let cell = max(8, min(24, 640 / max(L, 1)))
        let margin = 48, size = margin + L * cell + 16
        var values: [Double] = []
        for i in 0..<L { for j in i..<L where sim[i][j].isFinite { values.append(sim[i][j]) } }
        let lo = values.min() ?? 0, hi = values.max() ?? 1
        var out = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(size)" height="\(size + 20)" font-family="sans-serif" font-size="10">
        <title>\(escape(title))</title>
        <text x="\(margin)" y="14" font-size="12">\(escape(title)) (rows: anchor i, columns: layer j)</text>

        """
        for i in 0..<L {
            for j in 0..<L where j >= i && sim[i][j].isFinite {
                let t = hi > lo ? (sim[i][j] - lo) / (hi - lo) : 1
                let r = Int(255 - 225 * t), g = Int(255 - 185 * t), b = Int(255 - 95 * t)
                out += "<rect x=\"\(margin + j * cell)\" y=\"\(margin + i * cell)\" width=\"\(cell)\" height=\"\(cell)\" fill=\"rgb(\(r),\(g),\(b))\"><title>sim[\(i)][\(j)] = \(String(format: "%.4f", sim[i][j]))</title></rect>\n"
            }
        }
        for a in anchors where a >= 0 && a < L {
            out += "<rect x=\"\(margin + a * cell)\" y=\"\(margin + a * cell)\" width=\"\((L - a) * cell)\" height=\"\(cell)\" fill=\"none\" stroke=\"red\" stroke-width=\"1.5\"/>\n"
        }
        for j in 0..<L {
            if let a = anchors.last(where: { $0 <= j }) {
                out += "<circle cx=\"\(margin + j * cell + cell / 2)\" cy=\"\(margin + a * cell + cell / 2)\" r=\"\(max(2, cell / 5))\" fill=\"red\"/>\n"
            }
        }
        for l in Swift.stride(from: 0, to: L, by: L > 16 ? 5 : 1) {
            out += "<text x=\"\(margin + l * cell + cell / 2)\" y=\"\(margin - 4)\" text-anchor=\"middle\">\(l)</text>\n"
            out += "<text x=\"\(margin - 4)\" y=\"\(margin + l * cell + cell / 2 + 3)\" text-anchor=\"end\">\(l)</text>\n"
        }
        out += "<text x=\"\(margin)\" y=\"\(size + 12)\">anchors: \(anchors.map(String.init).joined(separator: ", ")); range \(String(format: "%.3g", lo)) to \(String(format: "%.3g", hi))</text>\n</svg>\n"
        return out
    }

    /// Writes the SVG to `path` atomically.
    public static func write(sim: [[Double]], anchors: [Int], title: String = "Kascade layer similarity", to path: String) throws(NPYError) {
        try NPY.writeAtomically(Array(svg(sim: sim, anchors: anchors, title: title).utf8), to: path)
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
