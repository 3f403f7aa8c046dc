namespace Aavae.Data;

/// <summary>A crop box in pixels: top row, left column, height, width.</summary>
public readonly record struct CropBox(int Top, int Left, int Height, int Width);
