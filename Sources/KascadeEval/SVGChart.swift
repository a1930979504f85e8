import Foundation

/// A small SVG line chart writer: numbered axes, one polyline with markers per series, a legend,
/// and optional dashed horizontal reference lines.
public struct SVGChart {
    /// A named series of points.
    public struct Series {
        public var name: String
        public var points: [(x: Double, y: Double)]
        /// Creates a series.
        public init(name: String, points: [(x: Double, y: Double)]) { self.name = name; self.points = points }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series] = []
    /// Dashed horizontal lines (e.g. dense accuracy).
    public var references: [(name: String, y: Double)] = []
    /// Axis ranges.
    public var xRange: ClosedRange<Double>
    public var yRange: ClosedRange<Double>
    /// Tick positions on the x axis and their labels.
    public var xTicks: [(Double, String)]
    /// Tick positions on the y axis and their labels.
    public var yTicks: [(Double, String)]

    /// Creates an empty chart.
    public init(title: String, xLabel: String, yLabel: String, xRange: ClosedRange<Double>, yRange: ClosedRange<Double>,
                xTicks: [(Double, String)], yTicks: [(Double, String)]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.xRange = xRange
        self.yRange = yRange
        self.xTicks = xTicks
        self.yTicks = yTicks
    }

    private static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"]

    /// The SVG document.
    public func render(width: Double = 720, height: Double = 420) -> String {
        let left = 60.0, right = 190.0, top = 40.0, bottom = 50.0
        let pw = width - left - right, ph = height - top - bottom
        func px(_ x: Double) -> Double {
            left + (xRange.upperBound > xRange.lowerBound ? (x - xRange.lowerBound) / (xRange.upperBound - xRange.lowerBound) : 0.5) * pw
        }
        func py(_ y: Double) -> Double {
            top + ph - (yRange.upperBound > yRange.lowerBound ? (y - yRange.lowerBound) / (yRange.upperBound - yRange.lowerBound) : 0.5) * ph
        }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(f(width))\" height=\"\(f(height))\" viewBox=\"0 0 \(f(width)) \(f(height))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        s += "<text x=\"\(f(left + pw / 2))\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">\(escape(title))</text>\n"
        s += "<line x1=\"\(f(left))\" y1=\"\(f(top + ph))\" x2=\"\(f(left + pw))\" y2=\"\(f(top + ph))\" stroke=\"black\"/>\n"
        s += "<line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(top + ph))\" stroke=\"black\"/>\n"
        for (x, label) in xTicks {
            s += "<line x1=\"\(f(px(x)))\" y1=\"\(f(top + ph))\" x2=\"\(f(px(x)))\" y2=\"\(f(top + ph + 5))\" stroke=\"black\"/>\n"
            s += "<text x=\"\(f(px(x)))\" y=\"\(f(top + ph + 18))\" text-anchor=\"middle\">\(escape(label))</text>\n"
        }
        for (y, label) in yTicks {
            s += "<line x1=\"\(f(left))\" y1=\"\(f(py(y)))\" x2=\"\(f(left + pw))\" y2=\"\(f(py(y)))\" stroke=\"#e0e0e0\"/>\n"
            s += "<text x=\"\(f(left - 6))\" y=\"\(f(py(y) + 4))\" text-anchor=\"end\">\(escape(label))</text>\n"
        }
        s += "<text x=\"\(f(left + pw / 2))\" y=\"\(f(height - 10))\" text-anchor=\"middle\">\(escape(xLabel))</text>\n"
        s += "<text x=\"16\" y=\"\(f(top + ph / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 16 \(f(top + ph / 2)))\">\(escape(yLabel))</text>\n"
        var legendY = top + 6
        for ref in references {
            s += "<line x1=\"\(f(left))\" y1=\"\(f(py(ref.y)))\" x2=\"\(f(left + pw))\" y2=\"\(f(py(ref.y)))\" stroke=\"black\" stroke-dasharray=\"6 4\"/>\n"
            s += "<line x1=\"\(f(left + pw + 14))\" y1=\"\(f(legendY))\" x2=\"\(f(left + pw + 34))\" y2=\"\(f(legendY))\" stroke=\"black\" stroke-dasharray=\"6 4\"/>\n"
            s += "<text x=\"\(f(left + pw + 40))\" y=\"\(f(legendY + 4))\">\(escape(ref.name))</text>\n"
            legendY += 18
        }
        for (i, ser) in series.enumerated() {
            let color = Self.palette[i % Self.palette.count]
            let pts = ser.points.sorted { $0.x < $1.x }
            if pts.count > 1 {
                s += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"" +
                    pts.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ") + "\"/>\n"
            }
            for p in pts { s += "<circle cx=\"\(f(px(p.x)))\" cy=\"\(f(py(p.y)))\" r=\"3.5\" fill=\"\(color)\"/>\n" }
            s += "<line x1=\"\(f(left + pw + 14))\" y1=\"\(f(legendY))\" x2=\"\(f(left + pw + 34))\" y2=\"\(f(legendY))\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
            s += "<text x=\"\(f(left + pw + 40))\" y=\"\(f(legendY + 4))\">\(escape(ser.name))</text>\n"
            legendY += 18
        }
        s += "</svg>\n"
        return s
    }

    private func escape(_ t: String) -> String {
        t.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
