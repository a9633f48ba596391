@_exported import VigilWire
