/// One option of a form's `<select>`, marked when it is the current value.
struct ConsoleChoice: Sendable {
    let value: String
    let label: String
    let selected: Bool
}
