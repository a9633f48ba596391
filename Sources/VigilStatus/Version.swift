/// The release (`--version` of every program, the Debian package's version: tools/package).
public enum VigilVersion {
    public static let string = "0.18.0"
}
