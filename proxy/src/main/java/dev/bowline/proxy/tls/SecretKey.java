package dev.bowline.proxy.tls;

/** An SDS secret's identity: its name at its source. */
public record SecretKey(SdsSource source, String name) {
  @Override
  public String toString() {
    return source.key() + "/" + name;
  }
}
