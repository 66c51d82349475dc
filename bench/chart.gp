# make bench's chart: gnuplot -e "dir='build/bench'" bench/chart.gp
# Left: 4 KiB random reads QD32, KIOPS per IOMMU mode (plain, fixed,
# dmabuf, premapped); right: 1 MiB sequential reads QD8, MB/s (dmabuf, bounce).
# Bars are medians, whiskers the min and max of the repetitions.
set terminal pngcairo size 1200,500 font "sans,10"
set output dir.'/bench.png'
set multiplot layout 1,2 title "dma-buf registered buffers on emulated NVMe (QEMU TCG, null-co drive, 2 vCPUs): bars are medians, whiskers min..max"
set style data histogram
set style histogram errorbars gap 1 lw 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set grid ytics
set yrange [0:*]
set key top left
set title "4 KiB random reads, QD32"
set ylabel "KIOPS"
plot dir.'/rand4k.dat' using 2:3:4:xtic(1) title "plain", \
     '' using 5:6:7 title "fixed", \
     '' using 8:9:10 title "dmabuf", \
     '' using 11:12:13 title "premapped"
set title "1 MiB sequential reads, QD8"
set ylabel "MB/s"
plot dir.'/seq1m.dat' using 2:3:4:xtic(1) title "dmabuf", \
     '' using 5:6:7 title "bounce (read + memcpy)"
unset multiplot
