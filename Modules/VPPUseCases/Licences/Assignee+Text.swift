import Foundation
import VPPDomain

/// An assignee in the text form admins and Apple use.
extension Assignee {
    var text: String {
        switch self {
        case .device(let serial): serial.value
        case .user(let user): user.value
        }
    }
}

extension Sequence where Element == Assignee {
    /// The device serial numbers among these assignees, as Apple wants them.
    var serialNumberTexts: [String] { compactMap { if case .device(let s) = $0 { s.value } else { nil } } }
    /// The clientUserIds among these assignees.
    var clientUserIDTexts: [String] { compactMap { if case .user(let u) = $0 { u.value } else { nil } } }

    /// Refuses a request that names an assignee twice, naming them.
    func requireDistinct() throws {
        let duplicates = Dictionary(grouping: self, by: \.self).filter { $0.value.count > 1 }.keys.map(\.text).sorted()
        guard duplicates.isEmpty else { throw UseCaseError.duplicateAssignees(duplicates) }
    }
}
