"""The learned segmenter: a tiny 2D U-Net (about 30,000 parameters) applied slice by slice.

One input channel (an axial slice, already normalised by ``segment.py``), one output
channel (the logit of the foreground; > 0 is foreground). Two poolings, so a slice's
height and width must be multiples of 4 (``segment.py`` pads them). The training script
(``scripts/train_imaging_segmenter.py``) imports this file, so the weights it writes and
the module the cube loads them into are one definition.
"""

from __future__ import annotations

import torch
from torch import nn

BASE_CHANNELS = 8


def _block(inputs: int, outputs: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(inputs, outputs, 3, padding=1, bias=False),
        nn.BatchNorm2d(outputs),
        nn.ReLU(inplace=True),
        nn.Conv2d(outputs, outputs, 3, padding=1, bias=False),
        nn.BatchNorm2d(outputs),
        nn.ReLU(inplace=True),
    )


class TinyUNet(nn.Module):
    """Encoder 8-16-32 channels, decoder back to 8 with skip connections, 1x1 head."""

    def __init__(self, base: int = BASE_CHANNELS) -> None:
        super().__init__()
        self.down1 = _block(1, base)
        self.down2 = _block(base, 2 * base)
        self.bottom = _block(2 * base, 4 * base)
        self.pool = nn.MaxPool2d(2)
        self.up2 = nn.ConvTranspose2d(4 * base, 2 * base, 2, stride=2)
        self.dec2 = _block(4 * base, 2 * base)
        self.up1 = nn.ConvTranspose2d(2 * base, base, 2, stride=2)
        self.dec1 = _block(2 * base, base)
        self.head = nn.Conv2d(base, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skip1 = self.down1(x)
        skip2 = self.down2(self.pool(skip1))
        bottom = self.bottom(self.pool(skip2))
        up2 = self.dec2(torch.cat([self.up2(bottom), skip2], dim=1))
        up1 = self.dec1(torch.cat([self.up1(up2), skip1], dim=1))
        logits: torch.Tensor = self.head(up1)
        return logits
