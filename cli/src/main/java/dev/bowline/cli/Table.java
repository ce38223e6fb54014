package dev.bowline.cli;

import java.io.PrintWriter;
import java.util.List;

/** Prints rows as left-aligned columns, as istioctl does. */
final class Table {
  private Table() {}

  static void print(PrintWriter out, List<String[]> rows) {
    int cols = rows.getFirst().length;
    int[] width = new int[cols];
    for (String[] r : rows) {
      for (int i = 0; i < cols; i++) {
        width[i] = Math.max(width[i], r[i].length());
      }
    }
    for (String[] r : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < cols; i++) {
        line.append(r[i]);
        if (i < cols - 1) {
          line.append(" ".repeat(width[i] - r[i].length() + 3));
        }
      }
      out.println(line.toString().stripTrailing());
    }
  }
}
