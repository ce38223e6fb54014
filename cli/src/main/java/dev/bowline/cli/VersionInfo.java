package dev.bowline.cli;

import dev.bowline.proxy.transport.Transport;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;
import picocli.CommandLine.IVersionProvider;

/** What {@code bowline version} reports: build version and commit, Java, Netty transport. */
record VersionInfo(String version, String commit, String java, String transport) {

  static VersionInfo current() {
    Properties props = new Properties();
    try (InputStream in = VersionInfo.class.getResourceAsStream("version.properties")) {
      if (in != null) {
        props.load(in);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    String commit = resolved(props.getProperty("commit"), "unknown");
    if ("true".equals(props.getProperty("dirty"))) {
      commit += "-dirty";
    }
    return new VersionInfo(
        resolved(props.getProperty("version"), "unknown"),
        commit,
        Runtime.version() + " (" + System.getProperty("java.vm.vendor") + ")",
        Transport.detect().displayName());
  }

  /** A value Maven filtered in, or {@code fallback} where the build left the placeholder. */
  private static String resolved(String value, String fallback) {
    return value == null || value.isBlank() || value.startsWith("${") ? fallback : value;
  }

  String[] lines() {
    return new String[] {
      "bowline " + version, "commit:    " + commit, "java:      " + java, "transport: " + transport,
    };
  }

  /** Feeds {@code bowline --version}. */
  static final class Provider implements IVersionProvider {
    @Override
    public String[] getVersion() {
      return current().lines();
    }
  }
}
