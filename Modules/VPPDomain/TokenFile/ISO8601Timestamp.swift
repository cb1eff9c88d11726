import Foundation

/// Reads and writes the timestamps Apple uses: `yyyy-MM-dd'T'HH:mm:ss` with an offset written
/// `+0000`, `+00:00` or `Z`, optionally with fractional seconds.
///
/// Hand-written because Foundation's formatters differ between platforms on colon-less offsets.
public enum ISO8601Timestamp {
    private static let utcCalendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    /// Parses `text`; `nil` when it is not such a timestamp or names an impossible date.
    public static func parse(_ text: String) -> Date? {
        let chars = Array(text.utf8)
        var index = 0
        func number(_ digits: Int) -> Int? {
            guard index + digits <= chars.count else { return nil }
            var value = 0
            for c in chars[index..<index + digits] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c) else { return nil }
                value = value * 10 + Int(c - UInt8(ascii: "0"))
            }
            index += digits
            return value
        }
        func expect(_ char: Character) -> Bool {
            guard index < chars.count, chars[index] == char.asciiValue! else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
            expect("T"), let hour = number(2), expect(":"), let minute = number(2), expect(":"),
            let second = number(2)
        else { return nil }
        var fraction = 0.0
        if index < chars.count, chars[index] == UInt8(ascii: ".") {
            index += 1
            let start = index
            while index < chars.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(chars[index]) { index += 1 }
            guard index > start, index - start <= 9 else { return nil }
            fraction = Double("0." + String(decoding: chars[start..<index], as: UTF8.self)) ?? 0
        }
        var offsetSeconds = 0
        if expect("Z") {
            offsetSeconds = 0
        } else {
            guard index < chars.count, chars[index] == UInt8(ascii: "+") || chars[index] == UInt8(ascii: "-") else {
                return nil
            }
            let sign = chars[index] == UInt8(ascii: "-") ? -1 : 1
            index += 1
            guard let offsetHours = number(2) else { return nil }
            _ = expect(":")
            guard let offsetMinutes = number(2), offsetHours <= 23, offsetMinutes <= 59 else { return nil }
            offsetSeconds = sign * (offsetHours * 3600 + offsetMinutes * 60)
        }
        guard index == chars.count,
            (1...12).contains(month), (1...31).contains(day), hour <= 23, minute <= 59, second <= 60
        else { return nil }
        let components = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        // Reject impossible days such as 2027-02-30 instead of letting the calendar roll them over.
        guard components.isValidDate(in: utcCalendar), let date = utcCalendar.date(from: components) else { return nil }
        return date.addingTimeInterval(fraction - Double(offsetSeconds))
    }

    /// RFC 3339 in UTC, to the second: `2027-11-25T12:00:00Z` — what vpp writes everywhere (API, CLI, console,
    /// e-mails). Apple writes `+0000` (no colon: ISO 8601 but not RFC 3339), which ``parse(_:)`` reads too.
    public static func format(_ date: Date) -> String {
        let c = utcCalendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02dZ",
            c.year!,
            c.month!,
            c.day!,
            c.hour!,
            c.minute!,
            c.second!
        )
    }
}
