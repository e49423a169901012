/** The text colour drawn on a chart's bars (src/webview/common/page.ts inkOn). */
import { describe, expect, it } from 'vitest';
import { inkOn } from '../src/webview/common/page';

describe('inkOn', () => {
  it("picks black on the themes' light and mid chart colours, white on deep ones", () => {
    // VS Code's chart colours: orange and blue (light theme), yellow, green; then deep ones.
    expect(['#d18616', '#1a85ff', '#3794ff', '#cca700', '#89d185', '#fff', 'rgb(209, 134, 22)'].map(inkOn)).toEqual(Array(7).fill('#000'));
    expect(['#000', '#1f1f1f', '#8b0000', 'rgba(0, 0, 128, 0.9)', '#00008bff'].map(inkOn)).toEqual(Array(5).fill('#fff'));
  });

  it('falls back to black for a colour it cannot read', () => {
    expect(inkOn('color-mix(in srgb, red 50%, blue)')).toBe('#000');
  });
});
