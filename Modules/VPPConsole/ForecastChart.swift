import Foundation
import VPPUseCases

/// An app's licences used over the last 90 days and the projection to exhaustion, drawn as SVG on the server
/// (no JavaScript): a `<title>` and a `<desc>` for assistive technology, and a table of the same numbers beside it.
struct ForecastChart: Sendable {
    struct Row: Sendable {
        let day: String
        let used: String
    }
    static let width = 600.0
    static let height = 200.0
    static let futureDays = 90.0

    let title: String
    let summary: String
    /// The history's polyline points (`x,y x,y …`).
    let history: String
    /// The projection's line, from today to exhaustion (or the chart's edge): none when the pool is not shrinking.
    /// (Stored, not computed: the templates read stored properties only.)
    let hasProjection: Bool
    let px1: String
    let py1: String
    let px2: String
    let py2: String
    let totalLine: String
    let totalLabel: String
    let todayX: String
    let rows: [Row]

    init(name: String, forecast: Forecast, points: [UsagePoint]) {
        title = "\(name): licences used over the last \(points.count) days, and the projection"
        summary = forecast.sentence
        let top = Double(max(forecast.total, points.map(\.used).max() ?? 0, 1))
        let span = Double(max(points.count - 1, 1)) + Self.futureDays
        func x(_ dayIndex: Double) -> Double { (dayIndex / span * Self.width).rounded() }
        func y(_ used: Double) -> Double { (Self.height - used / top * Self.height).rounded() }
        history = points.enumerated().map { "\(Int(x(Double($0.offset)))),\(Int(y(Double($0.element.used))))" }
            .joined(separator: " ")
        let todayIndex = Double(max(points.count - 1, 0))
        todayX = "\(Int(x(todayIndex)))"
        totalLine = "\(Int(y(Double(forecast.total))))"
        totalLabel = "\(forecast.total) licences"
        let usedNow = Double(points.last?.used ?? 0)
        if forecast.netPerDay > 0, forecast.waiting == 0 {
            let daysLeft = Double(forecast.available) / forecast.netPerDay
            let reach = min(daysLeft, Self.futureDays)
            hasProjection = true
            (px1, py1) = ("\(Int(x(todayIndex)))", "\(Int(y(usedNow)))")
            (px2, py2) = ("\(Int(x(todayIndex + reach)))", "\(Int(y(usedNow + reach * forecast.netPerDay)))")
        } else {
            hasProjection = false
            (px1, py1, px2, py2) = ("0", "0", "0", "0")
        }
        // Weekly rows (and today), so the table stays short enough to read.
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd"
        formatter.timeZone = TimeZone(identifier: "UTC")
        var rows: [Row] = []
        for (index, point) in points.enumerated() where (points.count - 1 - index) % 7 == 0 {
            rows.append(Row(day: formatter.string(from: point.day), used: "\(point.used)"))
        }
        if let exhausts = forecast.exhaustsOn, forecast.netPerDay > 0 || forecast.waiting > 0 {
            rows.append(
                Row(day: formatter.string(from: exhausts) + " (projected)", used: "\(forecast.total) (none left)")
            )
        }
        self.rows = rows
    }
}
