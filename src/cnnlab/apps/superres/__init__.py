"""Super-resolution (SRCNN, FSRCNN, ESPCN) trained on T91 and measured on Set5 the way the papers do.

``data`` (offline image sets, in-memory patch pairs), ``images`` (degradation, Y/Cb/Cr), ``protocol`` (Y-channel
PSNR/SSIM with the border shaved, bicubic beside), ``upscale`` (whole images, tiled). The models are zoo
families (``srcnn``, ``srcnn_915``, ``fsrcnn``, ``espcn``).
"""
