package dev.bowline.config;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;

/** Finds configuration files the way {@code bowline validate -f} and the directory source do. */
public final class ConfigFiles {
  private ConfigFiles() {}

  /** True for {@code *.yaml}, {@code *.yml} and {@code *.json} files that are not hidden. */
  public static boolean isConfigFile(Path file) {
    String name = file.getFileName().toString();
    return !name.startsWith(".")
        && (name.endsWith(".yaml") || name.endsWith(".yml") || name.endsWith(".json"));
  }

  /** True for a MeshConfig file ({@code mesh.yaml}) rather than a set of resources. */
  public static boolean isMeshConfig(Path file) {
    return file.getFileName().toString().equals("mesh.yaml");
  }

  /**
   * Files named directly, plus every config file under the directories named (recursively, skipping
   * hidden directories), each directory's files sorted by path.
   */
  public static List<Path> expand(List<Path> paths) throws IOException {
    List<Path> files = new ArrayList<>();
    for (Path p : paths) {
      if (!Files.isDirectory(p)) {
        if (!Files.exists(p)) {
          throw new IOException("no such file or directory: " + p);
        }
        files.add(p);
        continue;
      }
      List<Path> found = new ArrayList<>();
      Files.walkFileTree(
          p,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) {
              return !d.equals(p) && d.getFileName().toString().startsWith(".")
                  ? FileVisitResult.SKIP_SUBTREE
                  : FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) {
              if (attrs.isRegularFile() && isConfigFile(f)) {
                found.add(f);
              }
              return FileVisitResult.CONTINUE;
            }
          });
      found.sort(null);
      files.addAll(found);
    }
    return files;
  }
}
