"""``make model``: the category classifier, then the key scorer and the tempo chooser."""

from library.analysis.training import key_train, tempo_train
from library.analysis.training.train import main

main()
key_train.main()
tempo_train.main()
