/// The status page's three files, embedded in the binary at build time (SwiftPM's
/// `embedInCode` resources, from `Resources/`): served as they are, so the page needs nothing
/// but the node.
///
/// The page loads `/status-page.css` and `/status-page.js`; the script fetches `/status` every
/// second and draws the peers (link state, lag in entries and seconds, a catch-up's progress,
/// rate and ETA), the sessions and the refused IDs with the `--accept` option that admits each.
enum StatusPage {
    static let html: [UInt8] = PackageResources.status_html
    static let css: [UInt8] = PackageResources.status_css
    static let script: [UInt8] = PackageResources.status_js
}
