import Foundation

/// Zero-based paging as Apple does it: `nextPageIndex` only when a next page exists, 9650 out of range.
struct SimPage {
    /// Which of the matching items are on this page.
    let range: Range<Int>
    let fields: [String: Any]

    /// `nil` when `pageIndex` is out of range.
    init?(count: Int, pageIndexText: String?, pageSize: Int, versionId: String) {
        let pageSize = max(1, pageSize)
        let totalPages = max(1, (count + pageSize - 1) / pageSize)
        let pageIndex: Int
        if let text = pageIndexText {
            guard let value = Int(text) else { return nil }
            pageIndex = value
        } else {
            pageIndex = 0
        }
        guard pageIndex >= 0, pageIndex < totalPages else { return nil }
        let start = pageIndex * pageSize
        range = min(start, count)..<min(start + pageSize, count)
        var fields: [String: Any] = [
            "currentPageIndex": pageIndex, "totalPages": totalPages, "size": range.count, "versionId": versionId,
        ]
        if pageIndex + 1 < totalPages { fields["nextPageIndex"] = pageIndex + 1 }
        self.fields = fields
    }
}
